using System.Diagnostics;

namespace XcrCluster.Cli;

/// <summary>One of our servers (xcr-node, xcr-xapi-sim) started by `xcr demo` from its folder under runtime/ next to xcr
/// (never through `dotnet run`), its stdout and stderr in a log file so it can outlive xcr (--keep); its ready line
/// ("ready URL", "listening URL") is read from that log.</summary>
public sealed class ChildProgram : IDisposable
{
    /// <summary>The simulated pool, in runtime/sim/.</summary>
    public static readonly Server Sim = new("sim", "xcr-xapi-sim.dll", "listening ");

    /// <summary>The cluster node, in runtime/node/.</summary>
    public static readonly Server Node = new("node", "xcr-node.dll", "ready ");

    private readonly Process process;
    private bool detached;

    private ChildProgram(Process process, string log)
    {
        this.process = process;
        Log = log;
    }

    public int Pid => process.Id;

    public string Log { get; }

    public static async Task<(ChildProgram Program, Uri Url)> StartAsync(Server server, string log, params string[] args)
    {
        var (dll, readyPrefix) = (server.Dll, server.ReadyPrefix);
        var path = server.Path;
        if (!File.Exists(path))
        {
            // A published xcr ships without the servers (they carry Akka and the SQL drivers): the demo needs a build.
            throw new CliException($"{dll} is not in {Path.GetDirectoryName(path)}: the demo runs from a build "
                + "(dotnet run --project src/XcrCluster.Cli -c Release -- demo)");
        }

        // exec: the shell becomes the program, so its PID is the program's and a kill reaches it.
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var arg in (string[])["-c", "exec dotnet \"$@\" >>\"$XCR_CHILD_LOG\" 2>&1", "sh", path, .. args])
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment["XCR_CHILD_LOG"] = log;
        var child = new ChildProgram(Process.Start(psi) ?? throw new CliException($"{dll} did not start"), log);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var ready = File.Exists(log)
                ? File.ReadLines(log).FirstOrDefault(l => l.StartsWith(readyPrefix, StringComparison.Ordinal)) : null;
            if (ready is not null)
            {
                return (child, new Uri(ready[readyPrefix.Length..].Trim()));
            }

            if (child.process.HasExited || DateTime.UtcNow > deadline)
            {
                child.Dispose();
                throw new CliException($"{dll} did not start: see {log}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>A server of the demo: its folder under runtime/, its assembly and the prefix of its ready line.</summary>
    public sealed record Server(string Folder, string Dll, string ReadyPrefix)
    {
        public string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "runtime", Folder, Dll);
    }

    /// <summary>Leaves the program running after xcr exits (`xcr demo --keep`).</summary>
    public void Detach() => detached = true;

    public void Dispose()
    {
        try
        {
            if (!detached && !process.HasExited)
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
}
