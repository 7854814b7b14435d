using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace XcrCluster.Web.Tests;

/// <summary>
/// A real `xcr-node` process (<see cref="NodeProcess"/>, as the Node.Tests start it) on a fresh data directory with two
/// simulated pools registered, alpha (the source) and beta (the target), and a headless Chromium on its port. Everything
/// is stopped by PID and deleted on dispose, whatever happened.
/// </summary>
public sealed partial class WebNode : IAsyncDisposable
{
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "xcr-web-test-" + Guid.NewGuid().ToString("N")[..12]);

    static WebNode() => SetDefaultExpectTimeout(30_000);

    private WebNode()
    {
    }

    public SimHost Alpha { get; private set; } = null!;

    public SimHost Beta { get; private set; } = null!;

    public NodeProcess Node { get; private set; } = null!;

    public Chromium Browser { get; private set; } = null!;

    public IPage Page => Browser.Page;

    public string DataDir => dataDir;

    public string Token => File.ReadAllText(Path.Combine(dataDir, "token")).Trim();

    /// <summary>With <paramref name="https"/>, the node serves HTTPS with a self-signed certificate (the browser takes it) and
    /// no pool is registered (the test's API client would not trust the certificate).</summary>
    public static async Task<WebNode> StartAsync(bool https = false)
    {
        var web = new WebNode();
        try
        {
            if (https)
            {
                web.Node = await NodeProcess.StartAsync(web.dataDir, "--http-cert",
                    TestCertificates.SelfSigned(Directory.CreateDirectory(web.dataDir).FullName, "api"));
                web.Browser = await Chromium.LaunchAsync(web.Node.Url, ignoreCertificate: true);
                return web;
            }

            web.Alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha" });
            web.Beta = await SimHost.StartAsync(o => o with { PoolName = "beta" });
            web.Node = await NodeProcess.StartAsync(web.dataDir);
            await web.Node.AddPoolAsync("alpha", web.Alpha);
            await web.Node.AddPoolAsync("beta", web.Beta);
            web.Browser = await Chromium.LaunchAsync(web.Node.Url, ignoreCertificate: false);
            return web;
        }
        catch
        {
            await web.DisposeAsync();
            throw;
        }
    }

    /// <summary>A job replicating one VM of alpha (by name) to beta's local SR, with the given schedules; returns its id.</summary>
    public async Task<(string JobId, string Vm)> DefineJobAsync(string name, string vmName, params object[] schedules)
    {
        var vm = await Alpha.UuidAsync("VM", vmName);
        var sr = await Beta.UuidAsync("SR", "Local storage");
        var job = await Node.PostAsync("/api/jobs", new
        {
            name, sourcePool = "alpha", vms = new[] { vm }, targets = new[] { new { pool = "beta", sr } },
            schedules = schedules.Length == 0 ? null : schedules,
        });
        return (job["id"]!.GetValue<string>(), vm);
    }

    /// <summary>Logs in through the form and waits for the first page to be drawn.</summary>
    public async Task LogInAsync()
    {
        await Page.GotoAsync("/");
        await Expect(Page).ToHaveURLAsync(LoginUrl());
        await Page.FillAsync("#token", Token);
        await Page.ClickAsync("#login-submit");
        await Expect(Page).ToHaveURLAsync(new Regex("/(#.*)?$"));
        await Expect(Page.Locator("#page")).ToHaveAttributeAsync("data-ready", "true");
    }

    /// <summary>Goes to a page of the app (a hash route) and waits until it is drawn.</summary>
    public async Task ShowAsync(string route)
    {
        await Page.GotoAsync("/#/" + route);
        await Expect(Page.Locator("#page")).ToHaveAttributeAsync("data-page", route.Split('/')[0]);
        await Expect(Page.Locator("#page")).ToHaveAttributeAsync("data-ready", "true");
    }

    /// <summary>A full-page screenshot under .artifacts/test-results/screenshots/ at the repository's root (where .ci/test
    /// keeps the test results), or XCR_WEB_SCREENSHOTS.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var dir = Environment.GetEnvironmentVariable("XCR_WEB_SCREENSHOTS") is { Length: > 0 } given ? given
            : Path.Combine(RepositoryRoot(), ".artifacts", "test-results", "screenshots");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name + ".png");
        await Page.ScreenshotAsync(new() { Path = path, FullPage = true });
        return path;
    }

    [GeneratedRegex("/login$")]
    public static partial Regex LoginUrl();

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        Node?.Dispose();
        if (Alpha is not null)
        {
            await Alpha.DisposeAsync();
        }

        if (Beta is not null)
        {
            await Beta.DisposeAsync();
        }

        SimHost.DeleteDataDir(dataDir);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "XcrCluster.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? AppContext.BaseDirectory;
    }
}
