using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>The saw-tooth the dashboard plots per VM: lag grows with time and drops when a run's restore point lands, to the
/// run's end minus its source snapshot's time.</summary>
public sealed class LagSeriesTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch.AddDays(100);

    private static RunRecord Run(string id, double start, double snapshot, double end, RunStatus status = RunStatus.Success)
        => new(id, "job-1", "s-1", T0.AddSeconds(start), T0.AddSeconds(end),
            new RunResult(id, status, null, false, "snap", [],
                [new LogLine(LagSeries.SnapshotStep, "success", T0.AddSeconds(snapshot), T0.AddSeconds(snapshot + 1))]));

    [Fact]
    public void Lag_drops_to_each_landing_run_and_grows_between_failures_included()
    {
        var state = new ReplicatedVmState
        {
            History = [Run("a", 0, 5, 60), Run("b", 600, 610, 700, RunStatus.Failed), Run("c", 1200, 1202, 1230)],
        };

        var landings = LagSeries.Landings(state);
        Assert.Equal([(T0.AddSeconds(60), T0.AddSeconds(5)), (T0.AddSeconds(1230), T0.AddSeconds(1202))], landings);

        var points = LagSeries.Build(landings, T0.AddSeconds(30), T0.AddSeconds(1800));
        Assert.Equal(
            [(30.0, (double?)null), (60, null), (60, 55), (1230, 1225), (1230, 28), (1800, 598)],
            points.Select(p => ((p.At - T0).TotalSeconds, p.LagSeconds)));
    }

    [Fact]
    public void A_run_landed_before_the_window_sets_the_lag_at_its_start()
    {
        var points = LagSeries.Build([(T0.AddSeconds(60), T0)], T0.AddSeconds(100), T0.AddSeconds(200));
        Assert.Equal([100.0, 200.0], points.Select(p => p.LagSeconds!.Value));
    }
}
