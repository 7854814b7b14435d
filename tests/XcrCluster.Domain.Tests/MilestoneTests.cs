using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>The current run's milestones from its progress samples: the snapshot once, each disk and SR once when all its
/// bytes arrived, nothing for another run; an interrupted run says how far it got.</summary>
public sealed class MilestoneTests
{
    private static readonly ReplicateVm Request = new("vm-1", "run-1", "alpha", new JobRef("job-1", "j", "s-1", "s"),
        [new TargetRef("beta", "sr-1")], new ReplicationSettings());

    private static readonly RunProgress Sample = new("run-1", "job-1", "vm-1", null, null, null, 0, 0, RunPhase.Snapshot, DateTimeOffset.UnixEpoch);

    [Fact]
    public void The_snapshot_and_each_finished_transfer_are_milestones_once_and_only_for_the_current_run()
    {
        var state = new ReplicatedVmState { VmUuid = "vm-1" }.Apply(new RunStarted("vm-1", Request, DateTimeOffset.UnixEpoch));
        Assert.Equal("the node stopped during the run, before its snapshot: nothing was made on the source pool "
            + "(a target's leftovers, marked, are removed by the next run)", state.InterruptedReason());
        Assert.Empty(state.Observe(Sample, DateTimeOffset.UnixEpoch));
        Assert.Empty(state.Observe(Sample with { RunId = "other", Snapshot = "snap-x" }, DateTimeOffset.UnixEpoch));

        state = Step(state, Sample with { Snapshot = "snap-1" });
        Assert.Equal("snap-1", state.CurrentSnapshot);
        Assert.Empty(state.Observe(Sample with { Snapshot = "snap-1" }, DateTimeOffset.UnixEpoch));

        var export = Sample with { Phase = RunPhase.Export, Disk = "vdi-1", Sr = "sr-1", Total = 10 };
        Assert.Empty(state.Observe(export with { Bytes = 9 }, DateTimeOffset.UnixEpoch));
        state = Step(state, export with { Bytes = 10 });
        Assert.Empty(state.Observe(export with { Bytes = 10 }, DateTimeOffset.UnixEpoch));
        Assert.Equal([new DiskTransfer("vdi-1", "sr-1")], state.CurrentTransfers);

        var interrupted = state.Apply(new RunInterrupted("vm-1", "run-1", "job-1", DateTimeOffset.UnixEpoch));
        var result = Assert.Single(interrupted.History).Result;
        Assert.Equal("snap-1", result.SourceSnapshotUuid);
        Assert.StartsWith("the node stopped during the run, after its snapshot snap-1; 1 disk transfer(s) had ended (vdi-1 to SR sr-1)",
            result.Error);
        Assert.Null(interrupted.CurrentSnapshot);
        Assert.Empty(interrupted.CurrentTransfers);
    }

    private static ReplicatedVmState Step(ReplicatedVmState state, RunProgress sample)
        => state.Apply(Assert.Single(state.Observe(sample, DateTimeOffset.UnixEpoch)));
}
