using System.Diagnostics;

namespace XcrCluster.Bench;

/// <summary>The CPU time each process of a measurement uses while it runs: /proc/PID/stat's utime + stime read at
/// <see cref="Start"/> and at <see cref="Stop"/>, for the bench process itself, both simulators and every node, and the
/// machine's busy time over the same window (what the rest of the machine took beside them).</summary>
public sealed class CpuWindow
{
    private readonly List<(string Role, int Pid, (TimeSpan Total, TimeSpan System) Before)> processes;
    private readonly TimeSpan machineBefore;
    private readonly Stopwatch clock;

    private CpuWindow(IEnumerable<(string Role, int Pid)> processes)
    {
        this.processes = [.. processes.Select(p => (p.Role, p.Pid, ProcessCpu.Split(p.Pid)))];
        machineBefore = ProcessCpu.MachineBusy();
        clock = Stopwatch.StartNew();
    }

    /// <summary>Starts the window over the bench process, the source and target simulators and the nodes given (node 1
    /// first: with two, the control node that is the source's agent, then the target's agent).</summary>
    public static CpuWindow Start(BenchPool source, BenchPool target, IReadOnlyList<BenchNode>? nodes = null)
        => new([
            (CpuUse.Bench, Environment.ProcessId), (CpuUse.SourceSim, source.Process.ProgramPid),
            (CpuUse.TargetSim, target.Process.ProgramPid),
            .. (nodes ?? []).Select((n, i) => ($"{CpuUse.Node} {i + 1}", n.Process.ProgramPid)),
        ]);

    /// <summary>Waits (at most a minute) until the simulators and nodes given have been all but idle for half a second: the
    /// runtime's background recompiling of what the warm-up ran hot is then over, as in processes that have served their
    /// pools for a while, instead of taking a core from the measured run (a profile found it at a quarter of the node's and
    /// the simulators' samples during the run). Returns how long it waited.</summary>
    public static async Task<TimeSpan> SettleAsync(BenchPool source, BenchPool target, IReadOnlyList<BenchNode>? nodes = null)
    {
        int[] pids = [source.Process.ProgramPid, target.Process.ProgramPid, .. (nodes ?? []).Select(n => n.Process.ProgramPid)];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            var before = pids.Select(ProcessCpu.Of).ToArray();
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            if (pids.Select((pid, i) => ProcessCpu.Of(pid) - before[i]).All(used => used <= TimeSpan.FromMilliseconds(20)))
            {
                break;
            }
        }

        return clock.Elapsed;
    }

    public CpuUse Stop()
    {
        var wall = clock.Elapsed;
        var used = processes.Select(p => ProcessCpu.Split(p.Pid) is var (total, system)
            ? (p.Role, total - p.Before.Total, system - p.Before.System) : default).ToList();
        return new CpuUse(wall, used, ProcessCpu.MachineBusy() - machineBefore);
    }
}

/// <summary>What a <see cref="CpuWindow"/> measured: its wall time, each process's CPU time by role (and the part of it
/// in the kernel), the machine's busy time (every core, every process, the kernel's interrupts).</summary>
public sealed record CpuUse(TimeSpan Wall, IReadOnlyList<(string Role, TimeSpan Cpu, TimeSpan System)> Processes, TimeSpan Machine)
{
    public const string Bench = "bench";
    public const string SourceSim = "source sim";
    public const string TargetSim = "target sim";
    public const string Node = "node";

    public TimeSpan Total => Processes.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.Cpu);

    /// <summary>The machine's busy time the measured processes do not account for (other programs, softirqs).</summary>
    public TimeSpan Rest => Machine > Total ? Machine - Total : TimeSpan.Zero;

    /// <summary>The CPU times of the processes whose role starts with <paramref name="role"/> ("node" gives every node).</summary>
    public IReadOnlyList<(TimeSpan Cpu, TimeSpan System)> Of(string role)
        => [.. Processes.Where(p => p.Role.StartsWith(role, StringComparison.Ordinal)).Select(p => (p.Cpu, p.System))];

    /// <summary>One line for the progress output: each process's CPU seconds, the total, the window.</summary>
    public override string ToString()
        => string.Join(", ", Processes.Select(p => $"{p.Role} {p.Cpu.TotalSeconds:F2}"))
            + $", total {Total.TotalSeconds:F2} CPU s in {Wall.TotalSeconds:F2} s (machine busy {Machine.TotalSeconds:F2})";
}
