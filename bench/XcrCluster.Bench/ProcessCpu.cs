using XcrCluster.Testing;

namespace XcrCluster.Bench;

/// <summary>CPU time (user + system) a child program has used, from /proc/PID/stat: on a shared machine it moves far less
/// than wall time, and unlike the simulators' serving time it does not count calls waiting on each other.</summary>
internal static class ProcessCpu
{
    /// <summary>USER_HZ: the unit of /proc/PID/stat's and /proc/stat's times on Linux.</summary>
    private const double TicksPerSecond = 100;

    public static TimeSpan Of(ProgramProcess process) => Of(process.ProgramPid);

    /// <summary>The CPU time of a process, all its threads, from /proc/PID/stat.</summary>
    public static TimeSpan Of(int pid) => Split(pid).Total;

    /// <summary>The CPU time of a process, all its threads, in its user code and in the kernel on its behalf.</summary>
    public static (TimeSpan Total, TimeSpan System) Split(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");

        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var (user, system) = (long.Parse(fields[11]), long.Parse(fields[12]));
        return (TimeSpan.FromSeconds((user + system) / TicksPerSecond), TimeSpan.FromSeconds(system / TicksPerSecond));
    }

    /// <summary>This process's CPU time (the bench itself: the plain pipe runs in it).</summary>
    public static TimeSpan Self => Of(Environment.ProcessId);

    /// <summary>CPU time every core of the machine has been busy, from /proc/stat's "cpu" line: user, nice, system, irq,
    /// softirq and steal (idle and iowait left out; guest time is already in user).</summary>
    public static TimeSpan MachineBusy()
    {
        var fields = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var busy = new[] { 1, 2, 3, 6, 7, 8 }.Sum(i => long.Parse(fields[i]));
        return TimeSpan.FromSeconds(busy / TicksPerSecond);
    }
}
