using XcrCluster.Domain.Vm;
using XcrCluster.Domain;
using XcrCluster.Domain.Pools;

namespace XcrCluster.Replication.Tests;

/// <summary>A pool's inventory as its agent reads it: SRs with their space, VMs with their disks (no CD drive), no
/// templates, snapshots or control domains, and a replica marked as one.</summary>
public sealed class InventoryTests
{
    [Fact]
    public async Task Srs_and_vms_with_their_disks_and_the_replica_a_run_made_is_marked()
    {
        await using var pools = await TwoPools.StartAsync();
        var source = await pools.Source.InventoryAsync();
        Assert.Equal(["Local storage", "Second storage"], source.Srs.Select(s => s.Name));
        var local = source.Srs[0];
        Assert.Equal(100L << 30, local.PhysicalSize);
        Assert.True(local.PhysicalUtilisation > 0);
        Assert.Equal(local.PhysicalSize - local.PhysicalUtilisation, local.Free);
        Assert.Equal(["db01", "tiny01", "web01"], source.Vms.Select(v => v.Name));
        var web01 = source.Vms[2];
        Assert.Equal("Running", web01.PowerState);
        Assert.Equal(["web01 disk 0", "web01 disk 1"], web01.Disks.Select(d => d.Name));
        Assert.Equal([32L << 20, 16L << 20], web01.Disks.Select(d => d.VirtualSize));
        Assert.All(web01.Disks, d => Assert.Equal(local.Uuid, d.SrUuid));
        Assert.DoesNotContain(source.Vms, v => v.IsReplica);

        var vm = await pools.SourceVmAsync("tiny01");
        var run = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(run.Status == RunStatus.Success, run.Error);

        // The source snapshot the run keeps is not listed; on the target, the replica (its restore point is a snapshot) is.
        Assert.Equal(["db01", "tiny01", "web01"], (await pools.Source.InventoryAsync()).Vms.Select(v => v.Name));
        var target = await pools.Target.InventoryAsync();
        var replica = Assert.Single(target.Vms, v => v.Uuid == run.Targets[0].TargetVmUuid);
        Assert.True(replica.IsReplica);
        Assert.Equal("Halted", replica.PowerState);
        Assert.Contains(XoMetadata.ReplicaTag, replica.Tags);
        Assert.Empty(new SmartSelection("beta", [], null, []).Select(target.Vms.Where(v => v.IsReplica), TwoPools.Job.JobId));
    }
}
