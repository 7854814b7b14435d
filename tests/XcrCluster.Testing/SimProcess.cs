using System.Diagnostics;

namespace XcrCluster.Testing;

/// <summary>The `xcr-xapi-sim` program run as a child process (under `timeout -k`), killed by PID on dispose
/// whatever happened. Collects stdout and stderr for assertions.</summary>
public sealed class SimProcess : IDisposable
{
    private readonly Process process;
    private readonly List<string> stdout = [];
    private readonly List<string> stderr = [];
    private readonly TaskCompletionSource<string> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SimProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stdout)
            {
                stdout.Add(e.Data);
            }

            if (e.Data.StartsWith("listening ", StringComparison.Ordinal))
            {
                listening.TrySetResult(e.Data["listening ".Length..]);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.Add(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string DllPath { get; } = FindDll();

    public int Pid => process.Id;

    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (stdout)
            {
                return [.. stdout];
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (stderr)
            {
                return string.Join('\n', stderr);
            }
        }
    }

    /// <summary>Starts the program and waits for its "listening URL" line.</summary>
    public static async Task<(SimProcess Process, Uri Url)> StartAsync(params string[] args)
    {
        var sim = Start(args);
        try
        {
            var ready = await sim.listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return (sim, new Uri(ready));
        }
        catch (TimeoutException)
        {
            sim.Dispose();
            throw new TimeoutException($"xcr-xapi-sim did not print its listening line: {sim.Stderr}");
        }
    }

    /// <summary>Starts the program (server or subcommand) without waiting for anything.</summary>
    public static SimProcess Start(params string[] args)
    {
        var psi = new ProcessStartInfo("timeout") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["-k", "5", "300", "dotnet", DllPath, .. args])
        {
            psi.ArgumentList.Add(arg);
        }

        return new SimProcess(Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    /// <summary>Runs a subcommand to completion; returns its exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var sim = Start(args);
        await sim.process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        sim.process.WaitForExit();
        return (sim.process.ExitCode, string.Join('\n', sim.Stdout), sim.Stderr);
    }

    /// <summary>Sends a signal to the program itself (not to the `timeout` wrapper) and waits for the exit.</summary>
    public async Task<int> SignalAsync(string signal)
    {
        using (var kill = Process.Start("pkill", ["-" + signal, "-P", Pid.ToString()])!)
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        process.WaitForExit();
        return process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        finally
        {
            process.Dispose();
        }
    }

    private static string FindDll()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            // The configuration the tests were built in, so a stale build of the other one is never picked.
            foreach (var configuration in AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? ["Debug"] : (string[])["Release"])
            {
                var candidate = Path.Combine(dir.FullName, "src", "XcrCluster.XapiSim", "bin", configuration, "net10.0", "xcr-xapi-sim.dll");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException("xcr-xapi-sim.dll not found: build the solution first");
    }
}
