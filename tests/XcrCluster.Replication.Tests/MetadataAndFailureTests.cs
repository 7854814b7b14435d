using XcrCluster.Domain.Vm;
using XcrCluster.Domain;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>What a run leaves on both pools (docs/xen-orchestra.md §10 "Resulting objects"), and what a failed
/// run leaves: nothing new, the live target equal to its last restore point, a delta next time.</summary>
public sealed class MetadataAndFailureTests
{
    private static readonly string[] JobKeys = [XoMetadata.Job, XoMetadata.Schedule, XoMetadata.Vm, XoMetadata.Datetime];

    [Fact]
    public async Task A_run_leaves_exactly_the_xo_metadata_on_source_target_vm_and_restore_point()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("web01");
        var target = await pools.TargetAsync();
        var run = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(run.Status == RunStatus.Success, run.Error);

        // Source snapshot: named for the job, stamped on the VM and each VDI, exported, chain length 0, content key.
        var snapshot = await pools.Source.VmAsync(await pools.Source.VmRefAsync(run.SourceSnapshotUuid!));
        Assert.Equal("[XO Backup nightly] web01", snapshot.NameLabel);
        Assert.False(snapshot.IsATemplate);
        AssertKeys(snapshot.OtherConfig, vm.Uuid, exported: true);
        Assert.Equal("0", snapshot.OtherConfig[XoMetadata.DeltaChainLength]);
        foreach (var (_, vdi) in await pools.Source.DisksAsync(snapshot))
        {
            AssertKeys(vdi.OtherConfig, vm.Uuid, exported: true);
            Assert.Equal(vdi.Uuid, vdi.OtherConfig[XoMetadata.ContentKey]);
        }

        // The live source VM and its disks carry no job key.
        var liveSource = await pools.Source.VmAsync(vm.Ref);
        Assert.DoesNotContain(liveSource.OtherConfig.Keys, k => k.StartsWith("xo:backup:", StringComparison.Ordinal));

        // Live target: halted, start blocked with XO's message, tagged, job keys reset but xo:backup:sr kept.
        var outcome = Assert.Single(run.Targets);
        var live = await pools.Target.VmAsync(await pools.Target.VmRefAsync(outcome.TargetVmUuid!));
        Assert.Equal("Halted", live.PowerState);
        Assert.Equal(snapshot.NameLabel, live.NameLabel);
        Assert.Equal(XoMetadata.StartBlocked, live.BlockedOperations["start"]);
        Assert.Equal(XoMetadata.StartBlocked, live.BlockedOperations["start_on"]);
        Assert.Contains(XoMetadata.ReplicaTag, live.Tags);
        Assert.Equal(target.SrUuid, live.OtherConfig[XoMetadata.Sr]);
        Assert.DoesNotContain(live.OtherConfig.Keys, k => XoMetadata.ResetOnLiveTarget.Contains(k));
        Assert.Contains("-- last replication: ", live.NameDescription);
        Assert.Equal(vm.MemoryStaticMax, live.MemoryStaticMax);
        Assert.Equal(vm.VcpusMax, live.VcpusMax);
        var sourceMacs = new List<string>();
        foreach (var vif in vm.Vifs)
        {
            sourceMacs.Add((await pools.Source.Client.GetRecordAsync<VifRecord>(vif)).Mac);
        }

        var targetMacs = new List<string>();
        foreach (var vif in live.Vifs)
        {
            targetMacs.Add((await pools.Target.Client.GetRecordAsync<VifRecord>(vif)).Mac);
        }

        Assert.Equal(sourceMacs.Order(), targetMacs.Order());
        var liveDisks = await pools.Target.DisksAsync(live);
        var sourceDisks = await pools.Source.DisksAsync(snapshot);
        Assert.Equal(sourceDisks.Select(d => (d.Vbd.Userdevice, d.Vbd.Bootable, d.Vdi.NameLabel)), liveDisks.Select(d => (d.Vbd.Userdevice, d.Vbd.Bootable, d.Vdi.NameLabel)));

        // Restore point: a snapshot of the target VM with job/schedule/vm/sr/datetime/copy_of; its VDIs with copy_of and content key.
        var point = await pools.Target.VmAsync(await pools.Target.VmRefAsync(outcome.RestorePointUuid!));
        Assert.True(point.IsASnapshot);
        Assert.Equal(live.Ref, point.SnapshotOf);
        AssertKeys(point.OtherConfig, vm.Uuid, exported: false);
        Assert.Equal(snapshot.Uuid, point.OtherConfig[XoMetadata.CopyOf]);
        Assert.Equal(target.SrUuid, point.OtherConfig[XoMetadata.Sr]);
        Assert.StartsWith("web01 - nightly / every 5 minutes ", point.NameLabel);
        var pointDisks = await pools.Target.DisksAsync(point);
        for (var i = 0; i < pointDisks.Count; i++)
        {
            var other = pointDisks[i].Vdi.OtherConfig;
            Assert.Equal(sourceDisks[i].Vdi.Uuid, other[XoMetadata.CopyOf]);
            Assert.Equal(sourceDisks[i].Vdi.Uuid, other[XoMetadata.ContentKey]);
            AssertKeys(other, vm.Uuid, exported: false);
        }
    }

    private static void AssertKeys(IReadOnlyDictionary<string, string> otherConfig, string vmUuid, bool exported)
    {
        Assert.All(JobKeys, k => Assert.True(otherConfig.ContainsKey(k), $"{k} missing"));
        Assert.Equal(TwoPools.Job.JobId, otherConfig[XoMetadata.Job]);
        Assert.Equal(TwoPools.Job.ScheduleId, otherConfig[XoMetadata.Schedule]);
        Assert.Equal(vmUuid, otherConfig[XoMetadata.Vm]);
        Assert.Matches("^[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", otherConfig[XoMetadata.Datetime]);
        Assert.Equal("true", otherConfig[XoMetadata.QcowFix]);
        Assert.Equal(exported, otherConfig.GetValueOrDefault(XoMetadata.Exported) == "true");
    }

    [Theory]
    [InlineData("reset")]
    [InlineData("srFull")]
    [InlineData("stalled")]
    public async Task A_failed_transfer_leaves_nothing_new_the_live_target_intact_and_the_next_run_is_a_delta(string fault)
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("db01");
        var target = await pools.TargetAsync();
        var first = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        var liveUuid = first.Targets[0].TargetVmUuid!;
        var before = await Inventory(pools);
        var liveContent = await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, liveUuid);
        var liveBefore = await pools.Target.VmAsync(await pools.Target.VmRefAsync(liveUuid));

        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 4, 3);
        if (fault == "reset")
        {
            pools.TargetSim.Pool.Faults.ResetImportAfterBytes = 3 << 20;
        }
        else if (fault == "srFull")
        {
            pools.TargetSim.Pool.Faults.SrFull = true;
        }
        else
        {
            pools.TargetSim.Pool.Faults.ImportBytesPerSecond = 1;
        }

        var impatient = new TargetSpec(await pools.ConnectAsync(pools.TargetSim, new XapiClientOptions { StallTimeout = TimeSpan.FromSeconds(2) }), target.SrUuid);
        var failed = await pools.Replication(new ReplicationSettings(), impatient).RunAsync(vm.Uuid);
        Assert.Equal(RunStatus.Failed, failed.Status);
        if (fault == "stalled")
        {
            Assert.Contains("no data moved for 2 s", failed.Error);
        }

        pools.TargetSim.Pool.Faults.Clear();
        pools.CollectGarbage();
        Assert.Equal(before, await Inventory(pools));
        Assert.Equal(liveContent, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, liveUuid));
        var liveAfter = await pools.Target.VmAsync(await pools.Target.VmRefAsync(liveUuid));
        Assert.Equal(liveBefore.NameLabel, liveAfter.NameLabel);
        Assert.Equal(liveBefore.BlockedOperations, liveAfter.BlockedOperations);

        // The failed run's snapshot was not marked exported: the base is still the first run's, so this is a delta.
        var next = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(next.Status == RunStatus.Success, next.Error);
        Assert.False(next.Full);
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, next);
    }

    /// <summary>Every VM and VDI on the target pool, by uuid and name.</summary>
    private static async Task<List<string>> Inventory(TwoPools pools)
        => [.. (await pools.Target.Client.GetAllRecordsAsync<VmRecord>()).Select(v => $"VM {v.Uuid} {v.NameLabel}")
            .Concat((await pools.Target.Client.GetAllRecordsAsync<VdiRecord>()).Where(v => v.Managed).Select(v => $"VDI {v.Uuid} {v.NameLabel}")).Order()];

    [Fact]
    public async Task A_replica_is_never_replicated_by_its_own_job_and_an_unhealthy_chain_skips_the_vm()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var sameSr = new TargetSpec(pools.Source, await pools.SrUuidAsync(pools.Source, "Second storage"));
        var run = await pools.Replication(new ReplicationSettings(), sameSr).RunAsync(vm.Uuid);
        Assert.True(run.Status == RunStatus.Success, run.Error);
        var replica = run.Targets[0].TargetVmUuid!;
        var again = await pools.Replication(new ReplicationSettings(), sameSr).RunAsync(replica);
        Assert.Equal(RunStatus.Failed, again.Status);
        Assert.Contains("replica", again.Error);

        // The first run's snapshot, rotated away by the second without the collector, leaves an uncoalesced base copy.
        var second = await pools.Replication(new ReplicationSettings(), sameSr).RunAsync(vm.Uuid);
        Assert.True(second.Status == RunStatus.Success, second.Error);
        var strict = new ReplicationSettings { MaxUncoalescedVdis = 0 };
        var third = await pools.Replication(strict, sameSr).RunAsync(vm.Uuid);
        Assert.Equal(RunStatus.Skipped, third.Status);
        Assert.Contains("unhealthy VDI chain", third.Error);
        pools.CollectGarbage();
        var fourth = await pools.Replication(strict, sameSr).RunAsync(vm.Uuid);
        Assert.True(fourth.Status == RunStatus.Success, fourth.Error);
        Assert.False(fourth.Full);
    }
}
