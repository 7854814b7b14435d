using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>Cascades (site A -> B -> C), as Xen Orchestra allows on purpose (its issue #1811): another job replicates a replica,
/// while the job that made the replica never replicates it.</summary>
[Collection("processes")]
public sealed class CascadeTests
{
    internal static readonly JobRef Onward = new("7d1e-onward-job", "onward", "7d1e-onward-schedule", "hourly");

    [Fact]
    public async Task Another_job_replicates_a_replica_and_the_job_that_made_it_refuses_to()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var first = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        var replica = first.Targets[0].TargetVmUuid!;
        var onwardSr = await pools.SrUuidAsync(pools.Source, "Second storage");

        // The job that made the replica, asked to replicate it (from the target pool on), refuses before it creates anything.
        var own = await new VmReplication(pools.Target, [new TargetSpec(pools.Source, onwardSr)], TwoPools.Job, new ReplicationSettings(),
            pools.Materializer).RunAsync(replica);
        Assert.Equal(RunStatus.Failed, own.Status);
        Assert.Contains("never replicates its own replicas", own.Error);

        // Another job replicates it onward, and again after the first job's next run changed the replica. That second onward
        // run is still a full, and Xen Orchestra's content-key fallback (§2.5 step 4) cannot make it a delta: each upstream
        // commit puts new disks into the replica (unlike Xen Orchestra 6.3+, which imports into the replica's own disk), so the
        // onward job's snapshot, taken of the replica's previous disk, is no snapshot of its live disk any more; the only
        // snapshots of the live disk are the upstream restore points, whose content key names the upstream source snapshot,
        // while the onward target holds the content of the onward job's own snapshot (its content key is its own uuid, §2.7).
        var onward = new VmReplication(pools.Target, [new TargetSpec(pools.Source, onwardSr)], Onward, new ReplicationSettings(),
            pools.Materializer);
        var full = await onward.RunAsync(replica);
        Assert.True(full.Status == RunStatus.Success, full.Error);
        Assert.True(full.Full);
        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 3, 11);
        var second = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(second.Status == RunStatus.Success, second.Error);
        pools.CollectGarbage();
        var again = await onward.RunAsync(replica);
        Assert.True(again.Status == RunStatus.Success, again.Error);
        Assert.True(again.Full);
        Assert.Equal(ContentKeyOutcome.NoMatch, Assert.Single(again.Bases).Fallback);
        var onwardPoint = again.Targets[0].RestorePointUuid!;
        Assert.Equal(await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, again.SourceSnapshotUuid!),
            await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, onwardPoint));
        Assert.Equal(await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, second.SourceSnapshotUuid!),
            await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, onwardPoint));

        // The first chain goes on undisturbed by the onward job's snapshots of its replica.
        var third = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(third.Status == RunStatus.Success, third.Error);
        Assert.False(third.Full);
        Assert.Equal(replica, third.Targets[0].TargetVmUuid);
    }
}
