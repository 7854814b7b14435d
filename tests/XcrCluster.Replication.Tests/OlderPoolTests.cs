using XcrCluster.Domain.Vm;
using XcrCluster.Domain;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Tests;

/// <summary>XCP-ng / XenServer 8.2 (xapi before 21.4) has no ignore_vdis on VM.snapshot: it is sent only when a disk is
/// left out, and dropped when the pool answers MESSAGE_PARAMETER_COUNT_MISMATCH, as Xen Orchestra does.</summary>
public sealed class OlderPoolTests
{
    private static Task<TwoPools> OldSourceAsync()
        => TwoPools.StartAsync(o => o with { XapiVersion = "1.20" }, o => o with { XapiVersion = "1.20" });

    [Fact]
    public async Task A_vm_without_excluded_disks_replicates_from_an_8_2_pool()
    {
        await using var pools = await OldSourceAsync();
        var vm = await pools.SourceVmAsync("db01");
        var run = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(run.Status == RunStatus.Success, run.Error);
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, run);
    }

    [Theory]
    [InlineData("1.20")]
    [InlineData("25.6")]
    public async Task A_nobak_disk_is_left_out_of_the_snapshot_on_old_and_current_pools(string version)
    {
        await using var pools = await TwoPools.StartAsync(o => o with { XapiVersion = version });
        var vm = await pools.SourceVmAsync("web01");
        var disks = await pools.Source.DisksAsync(vm);
        await pools.Source.Client.CallAsync("VDI.set_name_label", disks[1].Vdi.Ref, $"{XoMetadata.NoBackupMarker} scratch");
        var vdisBefore = (await pools.Source.Client.GetAllRecordsAsync<VdiRecord>()).Count;

        var run = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(run.Status == RunStatus.Success, run.Error);
        var snapshot = await pools.Source.VmAsync(await pools.Source.VmRefAsync(run.SourceSnapshotUuid!));
        var kept = Assert.Single(await pools.Source.DisksAsync(snapshot));
        Assert.Equal(disks[0].Vdi.Ref, kept.Vdi.SnapshotOf);
        var point = await pools.Target.VmAsync(await pools.Target.VmRefAsync(run.Targets[0].RestorePointUuid!));
        Assert.Single(await pools.Target.DisksAsync(point));
        pools.CollectGarbage();

        // The one snapshot disk kept (and its base copy, until coalesced): none of the scratch disk's is left behind.
        var vdisAfter = await pools.Source.Client.GetAllRecordsAsync<VdiRecord>();
        Assert.DoesNotContain(vdisAfter, v => v.IsASnapshot && v.SnapshotOf == disks[1].Vdi.Ref);
        Assert.True(vdisAfter.Count <= vdisBefore + 2, $"{vdisAfter.Count - vdisBefore} more VDIs");
    }

    [Fact]
    public async Task A_hung_snapshot_ends_at_the_task_bound_and_the_run_leaves_nothing()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("db01");
        var impatient = await pools.ConnectAsync(pools.SourceSim, new XapiClientOptions { TaskTimeout = TimeSpan.FromSeconds(2) });
        pools.SourceSim.Pool.Faults.HangCalls = ["VM.snapshot"];
        var run = await new VmReplication(impatient, [await pools.TargetAsync()], TwoPools.Job, new ReplicationSettings(),
            pools.Materializer).RunAsync(vm.Uuid);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("VM.snapshot", run.Error);
        pools.SourceSim.Pool.Faults.Clear();
        var tasks = await pools.Source.Client.GetAllRecordsAsync<TaskRecord>();
        Assert.DoesNotContain(tasks, t => t.Status == "pending");
        await PoolInvariants.AssertCleanAsync(pools, vm.Uuid, vm.BlockedOperations);
    }
}
