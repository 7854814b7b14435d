using XcrCluster.Testing;

namespace XcrCluster.Bench;

/// <summary>CPU time (user + system) a child program has used, from /proc/PID/stat: on a shared machine it moves far less
/// than wall time, and unlike the simulators' serving time it does not count calls waiting on each other.</summary>
internal static class ProcessCpu
{
    /// <summary>USER_HZ: the unit of /proc/PID/stat's times on Linux.</summary>
    private const double TicksPerSecond = 100;

    public static TimeSpan Of(ProgramProcess process)
    {
        var stat = File.ReadAllText($"/proc/{process.ProgramPid}/stat");

        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return TimeSpan.FromSeconds((long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond);
    }
}
