using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>A replication into the simulator's null SR (SR.type "null"), the benchmarks' target: the engine's
/// whole run works against records alone and the hash of what crossed the wire equals the source disk's.</summary>
public sealed class NullSrReplicationTests
{
    [Fact]
    public async Task A_full_run_into_a_null_sr_completes_and_its_content_hash_equals_the_source_disk()
    {
        await using var pools = await TwoPools.StartAsync(targetOptions: o => o with
        {
            Fixture = SimHost.SmallFixture with
            {
                Srs = [new FixtureSr("Local storage", 100L << 30), new FixtureSr("Null storage", 100L << 30, Type: "null")],
            },
        });
        var vm = await pools.SourceVmAsync("web01");
        var first = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync("Null storage")).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        Assert.True(first.Full);
        var source = await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, first.SourceSnapshotUuid!);
        var target = first.Targets.Single();
        var replica = await pools.Target.VmAsync(await pools.Target.VmRefAsync(target.TargetVmUuid!));
        var disks = await pools.Target.DisksAsync(replica);
        Assert.Equal(source, disks.Select(d => pools.TargetSim.Pool.NullSrChecksum(d.Vdi.Uuid)).ToList());
        Assert.Equal(source, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, target.RestorePointUuid!));
        Assert.False(Directory.Exists(Path.Combine(pools.TargetSim.DataDir, "sr", await pools.SrUuidAsync(pools.Target, "Null storage"))));

        // The next run imports a delta onto records with no base content: it completes (its hash is then the
        // delta's blocks over zeros, see NullContent).
        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 2, 7);
        pools.CollectGarbage();
        var second = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync("Null storage")).RunAsync(vm.Uuid);
        Assert.True(second.Status == RunStatus.Success, second.Error);
        Assert.False(second.Full);
    }
}
