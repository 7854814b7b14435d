using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>What a listener computes from a run's samples (rate, time left) and how a tail knows the run ended.</summary>
public sealed class RunTailTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch;

    private static RunProgress Sample(long bytes, double seconds, string sr = "sr-1") => new("run-1", "job-1", "vm-1", "vdi-1", "disk 0", sr, bytes, 100 << 20, RunPhase.Export, T0.AddSeconds(seconds));

    [Fact]
    public void The_rate_is_over_a_window_of_recent_samples_and_the_time_left_at_that_rate()
    {
        var rates = new ProgressRates();
        Assert.Equal((null, null), rates.Observe(Sample(0, 0)));
        var (rate, eta) = rates.Observe(Sample(10 << 20, 1));
        Assert.Equal(10 << 20, rate);
        Assert.Equal(9, eta);
        Assert.Equal(10 << 20, rates.Observe(Sample(20 << 20, 2)).BytesPerSecond);
        Assert.Equal((null, null), rates.Observe(Sample(0, 2, "sr-2"))); // each target SR is a lane of its own

        // After a stall longer than the window the rate reflects it, not the average since the start.
        rates.Observe(Sample(20 << 20, 6));
        Assert.Equal(0, rates.Observe(Sample(20 << 20, 8)).BytesPerSecond);
        Assert.Null(rates.Observe(Sample(20 << 20, 8)).EtaSeconds);
    }

    [Fact]
    public void A_tail_ends_when_every_vm_of_the_run_ended_whichever_source_tells_first()
    {
        var tail = new RunTail("run-1", new Dictionary<string, string> { ["vm-1"] = "running", ["vm-2"] = "queued", ["vm-3"] = "skipped" });
        Assert.Equal(["vm-1", "vm-2"], tail.Going.Order());
        Assert.False(tail.IsOver);
        Assert.True(tail.End("vm-1", "success"));
        Assert.False(tail.End("vm-1", "success")); // the books and the message both tell
        Assert.False(tail.End("vm-9", "success")); // not in this run
        Assert.False(tail.End("vm-2", "running"));
        Assert.True(tail.End("vm-2", "failure"));
        Assert.True(tail.IsOver);
        Assert.Equal([("vm-1", "success"), ("vm-2", "failure"), ("vm-3", "skipped")], tail.Ended.Select(e => (e.Key, e.Value)).Order());
    }
}
