using XcrCluster.Domain.Vm;
using XcrCluster.Domain;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>Continuing a seed made by the real xo-cr-seed, and disks that grow, appear or go between runs.</summary>
[Collection("processes")]
public sealed class SeedAndTopologyTests
{
    [Fact]
    public async Task A_seed_made_by_xo_cr_seed_leads_to_a_delta_first_run()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("db01");
        var snapshot = await pools.Source.VmAsync((string)(await pools.Source.Client.CallTaskAsync("VM.snapshot", [vm.Ref, "manual seed"]))!);
        var sr = (await pools.Target.Client.GetAllRecordsAsync<SrRecord>()).Single(s => s.NameLabel == "Local storage");
        var seed = await Seeds.BuildAsync(pools.Source.Client, pools.Target.Client, snapshot, sr);
        await Seeds.RunXoCrSeedAsync(pools.SourceSim.Url, snapshot.Uuid, pools.TargetSim.Url, seed, TwoPools.Job.JobId, TwoPools.Job.ScheduleId);

        var written = GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 2, 8).Blocks;
        var imported = pools.ImportedBytes;
        var run = await pools.Replication(new ReplicationSettings(), new TargetSpec(pools.Target, sr.Uuid)).RunAsync(vm.Uuid);
        Assert.True(run.Status == RunStatus.Success, run.Error);
        Assert.False(run.Full);
        Assert.Equal(seed, run.Targets[0].TargetVmUuid);
        var disk = (await pools.Source.DisksAsync(vm)).Single().Vdi;
        Assert.Equal(Vhd.VhdStreamWriter.ComputeLength(disk.VirtualSize, written.Count), pools.ImportedBytes - imported);
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, run);
    }

    [Fact]
    public async Task A_grown_disk_stays_a_delta_a_new_disk_on_another_sr_is_full_and_a_removed_disk_leaves_the_restore_point()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("web01");
        var target = await pools.TargetAsync();
        var first = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);

        // Grow disk 0 by 4 MiB and add a third disk, on another SR than the first two.
        var disks = await pools.Source.DisksAsync(vm);
        await pools.Source.Client.CallAsync("VDI.resize", disks[0].Vdi.Ref, disks[0].Vdi.VirtualSize + (4 << 20));
        var sr = (await pools.Source.Client.GetAllRecordsAsync<SrRecord>()).Single(s => s.NameLabel == "Second storage" && s.Ref != disks[0].Vdi.Sr).Ref;
        var added = (string)(await pools.Source.Client.CallAsync("VDI.create", new Dictionary<string, object?>
        {
            ["SR"] = sr, ["virtual_size"] = 6L << 20, ["name_label"] = "added", ["type"] = "user", ["sharable"] = false, ["read_only"] = false,
            ["other_config"] = new Dictionary<string, object?>(),
        }))!;
        await pools.Source.Client.CallAsync("VBD.create", new Dictionary<string, object?> { ["VM"] = vm.Ref, ["VDI"] = added, ["userdevice"] = "4", ["type"] = "Disk", ["mode"] = "RW" });
        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 2, 1, 5);
        pools.CollectGarbage();
        var second = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(second.Status == RunStatus.Success, second.Error);
        Assert.Equal([FullReason.None, FullReason.None, FullReason.NewDisk], second.Bases.Select(b => b.Reason));
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, second);
        var live = await pools.Target.VmAsync(await pools.Target.VmRefAsync(second.Targets[0].TargetVmUuid!));
        Assert.Equal(disks[0].Vdi.VirtualSize + (4 << 20), (await pools.Target.DisksAsync(live))[0].Vdi.VirtualSize);

        // Remove the second disk: the next restore point has two disks, the earlier one still three.
        var vbd = (await pools.Source.DisksAsync(await pools.Source.VmAsync(vm.Ref)))[1].Vbd;
        await pools.Source.Client.CallAsync("VBD.destroy", vbd.Ref);
        pools.CollectGarbage();
        var third = await pools.Replication(new ReplicationSettings { CopyRetention = 2 }, target).RunAsync(vm.Uuid);
        Assert.True(third.Status == RunStatus.Success, third.Error);
        Assert.False(third.Full);
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, third);
        Assert.Equal(2, (await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, third.Targets[0].RestorePointUuid!)).Count);
        Assert.Equal(3, (await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, second.Targets[0].RestorePointUuid!)).Count);
    }

    [Fact]
    public async Task A_diskless_vm_replicates_its_definition_and_cd_drives_are_ignored()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = (string)(await pools.Source.Client.CallAsync("VM.create", new Dictionary<string, object?>
        {
            ["name_label"] = "appliance", ["memory_static_max"] = 1L << 30, ["VCPUs_max"] = 2L, ["VCPUs_at_startup"] = 2L, ["is_a_template"] = false,
        }))!;
        await pools.Source.Client.CallAsync("VBD.create", new Dictionary<string, object?> { ["VM"] = vm, ["VDI"] = "OpaqueRef:NULL", ["userdevice"] = "3", ["type"] = "CD", ["mode"] = "RO", ["empty"] = true });
        var uuid = (await pools.Source.VmAsync(vm)).Uuid;
        var run = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(uuid);
        Assert.True(run.Status == RunStatus.Success, run.Error);
        var live = await pools.Target.VmAsync(await pools.Target.VmRefAsync(run.Targets[0].TargetVmUuid!));
        Assert.Empty(await pools.Target.DisksAsync(live));
        Assert.Equal(2, live.VcpusMax);
        var again = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(uuid);
        Assert.True(again.Status == RunStatus.Success, again.Error);
        Assert.Equal(run.Targets[0].TargetVmUuid, again.Targets[0].TargetVmUuid);
    }
}
