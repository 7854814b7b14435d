using System.Diagnostics;

namespace XcrCluster.Testing;

/// <summary>One of our programs (`xcr-xapi-sim`, `xcr-node`) run as a child process under `timeout -k`, killed by
/// PID on dispose whatever happened. Collects stdout and stderr; a server's ready line gives its URL.</summary>
public sealed class ProgramProcess : IDisposable
{
    private readonly Process process;
    private readonly List<string> stdout = [];
    private readonly List<string> stderr = [];
    private readonly TaskCompletionSource<string> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The simulator: ready line "listening URL".</summary>
    public static readonly Program Sim = new("XcrCluster.XapiSim", "xcr-xapi-sim.dll", "listening ");

    /// <summary>The cluster node: ready line "ready URL".</summary>
    public static readonly Program Node = new("XcrCluster.Node", "xcr-node.dll", "ready ");

    /// <summary>The command tool (no ready line: its commands run to their end).</summary>
    public static readonly Program Xcr = new("XcrCluster.Cli", "xcr.dll", "\0");

    /// <param name="TimeLimitSeconds">When `timeout` ends the program whatever happens (benchmarks run longer than tests).</param>
    public sealed record Program(string Project, string Dll, string ReadyPrefix, int TimeLimitSeconds = 300)
    {
        public string DllPath => FindDll(Project, Dll);
    }

    private ProgramProcess(Process process, string readyPrefix)
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

            if (e.Data.StartsWith(readyPrefix, StringComparison.Ordinal))
            {
                listening.TrySetResult(e.Data[readyPrefix.Length..]);
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

    public int Pid => process.Id;

    /// <summary>The program's own process (the child of the `timeout` wrapper), for /proc readings.</summary>
    public int ProgramPid =>
        int.Parse(File.ReadAllText($"/proc/{Pid}/task/{Pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);

    /// <summary>Peak resident memory of the program so far (VmHWM), in bytes.</summary>
    public long PeakResidentBytes =>
        long.Parse(File.ReadAllLines($"/proc/{ProgramPid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;

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

    /// <summary>Starts the simulator and waits for its "listening URL" line.</summary>
    public static Task<(ProgramProcess Process, Uri Url)> StartAsync(params string[] args) => StartAsync(Sim, args);

    /// <summary>Starts a program and waits for its ready line.</summary>
    public static Task<(ProgramProcess Process, Uri Url)> StartAsync(Program program, params string[] args)
        => StartAsync(program, null, args);

    /// <summary>Starts a program with more environment variables and waits for its ready line.</summary>
    public static async Task<(ProgramProcess Process, Uri Url)> StartAsync(Program program,
        IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var sim = Start(program, environment, null, args);
        try
        {
            var ready = await sim.listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return (sim, new Uri(ready));
        }
        catch (TimeoutException)
        {
            sim.Dispose();
            throw new TimeoutException($"{program.Dll} did not print its ready line: {sim.Stderr}");
        }
    }

    /// <summary>Starts a program (server or subcommand) without waiting for anything.</summary>
    public static ProgramProcess Start(Program program, params string[] args) => Start(program, null, null, args);

    /// <summary>Starts a program with more environment variables and, if given, this text on its standard input.</summary>
    public static ProgramProcess Start(Program program, IReadOnlyDictionary<string, string>? environment, string? stdin,
        params string[] args)
    {
        var psi = new ProcessStartInfo("timeout") { RedirectStandardOutput = true, RedirectStandardError = true,
            RedirectStandardInput = stdin is not null };

        // A simulator server (not a subcommand) runs the xapi of XCR_SIM_XAPI_VERSION unless the test names one.
        var server = args.Length > 0 && args[0].StartsWith("--", StringComparison.Ordinal);
        if (program == Sim && server && SimHost.XapiVersionFromEnvironment is { } version && !args.Contains("--xapi-version"))
        {
            args = [.. args, "--xapi-version", version];
        }

        foreach (var arg in (string[])["-k", "5", program.TimeLimitSeconds.ToString(), "dotnet", program.DllPath, .. args])
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        var started = new ProgramProcess(Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start"),
            program.ReadyPrefix);
        if (stdin is not null)
        {
            started.process.StandardInput.Write(stdin);
            started.process.StandardInput.Close();
        }

        return started;
    }

    /// <summary>Runs a command of one of our programs to its end (2 minutes at most).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(Program program,
        IReadOnlyDictionary<string, string>? environment, string? stdin, params string[] args)
    {
        using var run = Start(program, environment, stdin, args);
        var code = await run.WaitForExitAsync();
        return (code, string.Join('\n', run.Stdout), run.Stderr);
    }

    /// <summary>Whether the program has ended.</summary>
    public bool HasExited => process.HasExited;

    /// <summary>Waits for the end (2 minutes at most) and for the last of its output; the exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Runs a simulator subcommand to completion; returns its exit code, stdout and stderr.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => RunToEndAsync(Sim, null, null, args);

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

    private static string FindDll(string project, string dll)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            // The configuration the tests were built in, so a stale build of the other one is never picked.
            foreach (var configuration in AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? ["Debug"]
                : (string[])["Release"])
            {
                var candidate = Path.Combine(dir.FullName, "src", project, "bin", configuration, "net10.0", dll);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException($"{dll} not found: build the solution first");
    }
}
