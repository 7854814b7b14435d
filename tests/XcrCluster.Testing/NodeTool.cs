using System.Diagnostics;

namespace XcrCluster.Testing;

/// <summary>Runs node scripts and npm binaries from tests/node (installed by `bash .ci/prereqs` with npm ci),
/// each under `timeout -k` and killed by PID whatever happens. A missing install fails the test.</summary>
public static class NodeTool
{
    public static string Dir { get; } = FindDir();

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, TimeSpan limit, params string[] args)
    {
        if (!Directory.Exists(Path.Combine(Dir, "node_modules")))
        {
            throw new InvalidOperationException($"{Dir}/node_modules is missing: run `bash .ci/prereqs` (npm ci) first");
        }

        var psi = new ProcessStartInfo("timeout") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Dir };
        foreach (var arg in (string[])["-k", "10", ((int)limit.TotalSeconds).ToString(), "node", script, .. args])
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(limit + TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(deadline.Token);
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

    private static string FindDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "node");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/node/package.json not found above " + AppContext.BaseDirectory);
    }
}
