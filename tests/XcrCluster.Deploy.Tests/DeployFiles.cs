using System.Diagnostics;

// systemd, sh, the image's scripts: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace XcrCluster.Deploy.Tests;

/// <summary>The repository's deploy/ folder, and the programs the tests run against it (systemd-analyze, kubectl, sh,
/// openssl), each under `timeout -k` and killed by PID if it outlives its bound.</summary>
internal static class DeployFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, "deploy", .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, int seconds = 60)
    {
        var psi = new ProcessStartInfo("timeout") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["-k", "5", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), program, .. args])
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"{program} did not start");
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(seconds + 15));
            return (process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Runs deploy/make-secrets.sh into <paramref name="dir"/>: the secrets every deployment reads, as the README
    /// tells an operator to make them.</summary>
    public static async Task<string> MakeSecretsAsync(string dir)
    {
        var (code, _, stderr) = await RunAsync("sh", [PathOf("make-secrets.sh"), dir]);
        Assert.True(code == 0, $"make-secrets.sh failed: {stderr}");
        return dir;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XcrCluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("XcrCluster.sln not found above the test's folder");
    }
}

/// <summary>A folder of its own for a test, deleted afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("xcr-deploy-").FullName;

    public string Sub(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>A test class whose tests each have a folder of their own (xunit makes one instance per test).</summary>
public abstract class WithTempDir : IDisposable
{
    internal TempDir Temp { get; } = new();

    public void Dispose()
    {
        Temp.Dispose();
        GC.SuppressFinalize(this);
    }
}
