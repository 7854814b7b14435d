using Microsoft.Playwright;

namespace XcrCluster.Web.Tests;

/// <summary>
/// Debian's chromium (/usr/bin/chromium, installed by .ci/prereqs) driven by Playwright, headless, on a fresh profile
/// directory deleted afterwards; nothing is downloaded (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD, the driver ships in the NuGet
/// package). On dispose the browser is closed, then any process still running on this profile is killed by its PID.
/// Console errors (a script error, a CSP violation) are collected for the tests to assert on.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright playwright;
    private readonly string profile;
    private readonly List<string> errors = [];

    private Chromium(IPlaywright playwright, IBrowserContext context, IPage page, string profile)
    {
        this.playwright = playwright;
        this.profile = profile;
        Context = context;
        Page = page;
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                lock (errors)
                {
                    errors.Add($"{m.Text} ({m.Location})");
                }
            }
        };
        page.PageError += (_, e) =>
        {
            lock (errors)
            {
                errors.Add(e);
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Console errors and uncaught script errors so far.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (errors)
            {
                return [.. errors];
            }
        }
    }

    /// <param name="ignoreCertificate">Take the node's self-signed HTTPS certificate.</param>
    public static async Task<Chromium> LaunchAsync(Uri baseUrl, bool ignoreCertificate)
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Assert.True(File.Exists(Executable), $"{Executable} is missing: run .ci/prereqs (apt-get install chromium)");
        var profile = Directory.CreateTempSubdirectory("xcr-chromium-").FullName;
        var playwright = await Playwright.CreateAsync();
        try
        {
            // The profile is given as Playwright's user data dir: it passes it as --user-data-dir (and refuses the flag).
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new()
            {
                ExecutablePath = Executable, Headless = true, Args = Flags, BaseURL = baseUrl.ToString(), Timeout = 60_000,
                ViewportSize = new() { Width = 1280, Height = 900 }, IgnoreHTTPSErrors = ignoreCertificate,
            });
            context.SetDefaultTimeout(30_000);
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            return new Chromium(playwright, context, page, profile);
        }
        catch
        {
            playwright.Dispose();
            KillProfileProcesses(profile);
            Directory.Delete(profile, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Context.CloseAsync().WaitAsync(limit.Token);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or PlaywrightException)
        {
            // Killed below.
        }
        finally
        {
            playwright.Dispose();
            KillProfileProcesses(profile);
            Directory.Delete(profile, recursive: true);
        }
    }

    /// <summary>The browser's processes are the ones whose command line names this test's own profile directory.</summary>
    private static void KillProfileProcesses(string profile)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(profile, StringComparison.Ordinal))
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException
                or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
    }
}
