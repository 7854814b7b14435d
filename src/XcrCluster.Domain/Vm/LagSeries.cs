namespace XcrCluster.Domain.Vm;

/// <summary>
/// A VM's lag over a window as the saw-tooth operators plot: the lag (time since the snapshot of the newest restore
/// point available then) grows one second per second and drops when a run's restore point lands, to that run's
/// end minus the time of its source snapshot. The source snapshot's time is the start of the run's "snapshot" step in its
/// log (the restore points' own snapshot times are taken on the target, at the run's end); the run's start without it.
/// </summary>
public static class LagSeries
{
    /// <summary>The engine's log line for the source snapshot (VmReplication).</summary>
    public const string SnapshotStep = "snapshot";

    /// <summary>A point of the curve: the lag at that instant (null: nothing replicated yet).</summary>
    public sealed record Point(DateTimeOffset At, double? LagSeconds);

    /// <summary>When each successful run's restore point became available (the run's end) and the source state it holds
    /// (the start of the run's source snapshot step), oldest first.</summary>
    public static List<(DateTimeOffset Available, DateTimeOffset Snapshot)> Landings(ReplicatedVmState state)
        => [.. state.History.Where(h => h.Result.Status == RunStatus.Success)
            .Select(h => (h.Finished, h.Result.Log.FirstOrDefault(l => l.Name == SnapshotStep)?.Start ?? h.Started))
            .OrderBy(l => l.Finished)];

    /// <summary>The curve from <paramref name="from"/> to <paramref name="to"/>: a point at each end and two at each landing
    /// (the peak just before, the trough after).</summary>
    public static List<Point> Build(IReadOnlyList<(DateTimeOffset Available, DateTimeOffset Snapshot)> landings, DateTimeOffset from,
        DateTimeOffset to)
    {
        DateTimeOffset? newest = null;
        foreach (var (available, snapshot) in landings.Where(l => l.Available <= from))
        {
            newest = Max(newest, snapshot);
        }

        var points = new List<Point> { new(from, Lag(from, newest)) };
        foreach (var (available, snapshot) in landings.Where(l => l.Available > from && l.Available <= to))
        {
            points.Add(new(available, Lag(available, newest)));
            newest = Max(newest, snapshot);
            points.Add(new(available, Lag(available, newest)));
        }

        points.Add(new(to, Lag(to, newest)));
        return points;
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;

    private static double? Lag(DateTimeOffset at, DateTimeOffset? newest) => newest is { } n ? Math.Max(0, (at - n).TotalSeconds) : null;
}
