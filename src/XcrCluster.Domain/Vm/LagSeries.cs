namespace XcrCluster.Domain.Vm;

/// <summary>
/// A VM's lag over a window as the saw-tooth operators plot: the lag (time since the snapshot of the newest restore
/// point available then) grows one second per second and drops when a run's restore point lands, to that run's
/// end minus its snapshot time. A successful run's restore point is the newest one snapshotted during the run; when
/// retention has removed it, the run's start stands for its snapshot time (the snapshot is the run's first step).
/// </summary>
public static class LagSeries
{
    /// <summary>A point of the curve: the lag at that instant (null: nothing replicated yet).</summary>
    public sealed record Point(DateTimeOffset At, double? LagSeconds);

    /// <summary>When each successful run's restore point became available and the snapshot time it holds, oldest first.</summary>
    public static List<(DateTimeOffset Available, DateTimeOffset Snapshot)> Landings(ReplicatedVmState state)
    {
        var snapshots = state.Chains.SelectMany(c => c.RestorePoints).Select(p => p.SnapshotTime).OfType<DateTimeOffset>()
            .Order().ToList();
        return [.. state.History.Where(h => h.Result.Status == RunStatus.Success).Select(h =>
            {
                var taken = snapshots.LastOrDefault(s => s >= h.Started && s <= h.Finished);
                return (h.Finished, taken == default ? h.Started : taken);
            }).OrderBy(l => l.Item1)];
    }

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
