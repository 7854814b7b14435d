using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Vhd;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>Xen Orchestra 6.5's content-key fallback (xo-cr-semantics §2.5 step 4, §2.6): with no base of this job and exactly
/// one target, the newest snapshot of the live disk (any job) whose content a restore point on the target holds is the base,
/// and the task log says so per disk.</summary>
[Collection("processes")]
public sealed class ContentKeyTests
{
    /// <summary>A job of another tool or of before an adoption: its chain names its own job id.</summary>
    private static readonly JobRef OtherJob = new("9a41-xo-job", "xo nightly", "9a41-xo-schedule", "daily");

    [Fact]
    public async Task A_chain_of_another_job_is_continued_as_a_delta_by_content_key_into_its_replica()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var theirs = await new VmReplication(pools.Source, [target], OtherJob, new ReplicationSettings(), pools.Materializer)
            .RunAsync(vm.Uuid);
        Assert.True(theirs.Status == RunStatus.Success, theirs.Error);
        var theirSnapshotDisk = await DiskUuidAsync(pools.Source, theirs.SourceSnapshotUuid!);

        var written = GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 3, 17).Blocks;
        var importedBefore = pools.ImportedBytes;
        var ours = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(ours.Status == RunStatus.Success, ours.Error);
        Assert.False(ours.Full);
        var disk = Assert.Single(ours.Bases);
        Assert.Equal((theirSnapshotDisk, BaseOrigin.ContentKey), (disk.BaseSnapshotVdiUuid, disk.Origin));
        Assert.Contains(ours.Log, l => l.Name.StartsWith("transfer ", StringComparison.Ordinal)
            && l.Message == $"delta from {theirSnapshotDisk} by content key (no exported snapshot of this job)");
        var size = (await pools.Source.DisksAsync(vm)).Single().Vdi.VirtualSize;
        Assert.Equal(VhdStreamWriter.ComputeLength(size, written.Count), pools.ImportedBytes - importedBefore);
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, ours);

        // Their replica is halted and unchanged since the restore point holding the content: updated in place (§2.6).
        Assert.Equal(theirs.Targets[0].TargetVmUuid, ours.Targets[0].TargetVmUuid);

        // The chain is this job's now: the next run is a delta from its own snapshot.
        var oursDisk = await DiskUuidAsync(pools.Source, ours.SourceSnapshotUuid!);
        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 2, 18);
        var next = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(next.Status == RunStatus.Success, next.Error);
        Assert.Equal((oursDisk, BaseOrigin.JobSnapshot), (next.Bases.Single().BaseSnapshotVdiUuid, next.Bases.Single().Origin));
        Assert.Equal(ours.Targets[0].TargetVmUuid, next.Targets[0].TargetVmUuid);
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, next);
    }

    /// <summary>A seed as xo-cr-seed leaves it stamps the source snapshot VM only (§10): its disks carry no job key, datetime or
    /// content key, so the snapshot VM's datetime and the disk's own uuid stand for them.</summary>
    [Fact]
    public async Task A_snapshot_stamped_on_its_vm_only_is_a_content_key_base()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var theirs = await new VmReplication(pools.Source, [target], OtherJob, new ReplicationSettings(), pools.Materializer)
            .RunAsync(vm.Uuid);
        Assert.True(theirs.Status == RunStatus.Success, theirs.Error);
        var seed = await pools.Source.VmAsync(await pools.Source.VmRefAsync(theirs.SourceSnapshotUuid!));
        var seedDisk = (await pools.Source.DisksAsync(seed)).Single().Vdi;
        string[] vdiLevel = [XoMetadata.Datetime, XoMetadata.Job, XoMetadata.Schedule, XoMetadata.Vm, XoMetadata.Exported,
            XoMetadata.ContentKey, XoMetadata.DeltaChainLength];
        await pools.Source.SetVdiOtherConfigAsync(seedDisk.Ref, vdiLevel.ToDictionary(k => k, string? (_) => null));
        Assert.True(seed.OtherConfig.ContainsKey(XoMetadata.Datetime));

        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 2, 5);
        var ours = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(ours.Status == RunStatus.Success, ours.Error);
        Assert.False(ours.Full);
        Assert.Equal((seedDisk.Uuid, BaseOrigin.ContentKey), (ours.Bases.Single().BaseSnapshotVdiUuid, ours.Bases.Single().Origin));
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, ours);
    }

    /// <summary>Xen Orchestra's rule (§2.6): the replica holding the content is updated in place only when none of its blocks
    /// changed since that restore point; a replica someone wrote on, or one that cannot be compared, is left as it is and a new
    /// replica is built from a clone of the restore point, still as a delta.</summary>
    [Theory]
    [InlineData("written")]
    [InlineData("compare fails")]
    public async Task A_replica_changed_since_the_restore_point_holding_the_content_is_left_as_it_is(string why)
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var theirs = await new VmReplication(pools.Source, [target], OtherJob, new ReplicationSettings(), pools.Materializer)
            .RunAsync(vm.Uuid);
        Assert.True(theirs.Status == RunStatus.Success, theirs.Error);
        var theirReplica = theirs.Targets[0].TargetVmUuid!;
        if (why == "written")
        {
            GuestWorkload.Write(pools.TargetSim.Pool, theirReplica, 0, 1, 4);
        }
        else
        {
            pools.TargetSim.Pool.Faults.FailDeltaExports = true; // the target's compare is a delta export there
        }

        var replicaSums = await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, theirReplica);
        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 2, 5);
        var ours = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(ours.Status == RunStatus.Success, ours.Error);
        Assert.False(ours.Full);
        Assert.Equal(BaseOrigin.ContentKey, Assert.Single(ours.Bases).Origin);
        Assert.NotEqual(theirReplica, ours.Targets[0].TargetVmUuid);
        Assert.Contains(ours.Log, l => l.Name == "replica" && l.Message!.Contains(
            why == "written" ? "changed since the restore point holding the content" : "could not be compared", StringComparison.Ordinal));
        Assert.Equal(replicaSums, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, theirReplica));
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, ours);
    }

    [Fact]
    public async Task Two_targets_never_fall_back_to_content_keys()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        TargetSpec[] targets = [await pools.TargetAsync("Local storage"), await pools.TargetAsync("Second storage")];
        var theirs = await new VmReplication(pools.Source, targets, OtherJob, new ReplicationSettings(), pools.Materializer)
            .RunAsync(vm.Uuid);
        Assert.True(theirs.Status == RunStatus.Success, theirs.Error);

        var ours = await pools.Replication(new ReplicationSettings(), targets).RunAsync(vm.Uuid);
        Assert.True(ours.Status == RunStatus.Success, ours.Error);
        Assert.True(ours.Full);
        Assert.Equal(ContentKeyOutcome.SeveralTargets, Assert.Single(ours.Bases).Fallback);
        Assert.Equal(2, ours.Log.Count(l => l.Name.StartsWith("transfer ", StringComparison.Ordinal)
            && l.Message!.EndsWith("no content-key fallback with several targets (only with exactly one)", StringComparison.Ordinal)));
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, ours);
    }

    [Fact]
    public async Task A_content_key_held_by_a_snapshot_of_the_source_disk_itself_is_never_a_base()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var theirs = await new VmReplication(pools.Source, [await pools.TargetAsync()], OtherJob, new ReplicationSettings(),
            pools.Materializer).RunAsync(vm.Uuid);
        Assert.True(theirs.Status == RunStatus.Success, theirs.Error);

        // Replicating onto the SR of the source disk: their source snapshot there carries the content key asked for, but it is a
        // snapshot of the very disk being replicated.
        var live = (await pools.Source.DisksAsync(vm)).Single().Vdi;
        var sameSr = new TargetSpec(pools.Source, (await pools.Source.Client.GetRecordAsync<Xapi.Records.SrRecord>(live.Sr)).Uuid);
        var ours = await new VmReplication(pools.Source, [sameSr], TwoPools.Job, new ReplicationSettings(), pools.Materializer)
            .RunAsync(vm.Uuid);
        Assert.True(ours.Status == RunStatus.Success, ours.Error);
        Assert.True(ours.Full);
        Assert.Equal(ContentKeyOutcome.NoMatch, Assert.Single(ours.Bases).Fallback);
        Assert.Equal(await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, ours.SourceSnapshotUuid!),
            await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, ours.Targets[0].RestorePointUuid!));
    }

    /// <summary>What content keys allow in a cascade: a replica replicated back to the SR its source lives on (Xen Orchestra's
    /// reverse replication) is a delta from the replica's restore point onto the source's snapshot holding the same content; the
    /// source VM itself, running and not a replica, is never written: a new replica is built from a clone.</summary>
    [Fact]
    public async Task A_replica_replicated_back_to_its_source_sr_is_a_delta_by_content_key()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var first = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        var live = (await pools.Source.DisksAsync(vm)).Single().Vdi;
        var liveSum = GuestWorkload.Checksum(pools.SourceSim.Pool, live.Uuid);
        var sourceSr = new TargetSpec(pools.Source, (await pools.Source.Client.GetRecordAsync<Xapi.Records.SrRecord>(live.Sr)).Uuid);

        var importedBefore = pools.SourceSim.Pool.Stats.BytesImported("/import_raw_vdi");
        var back = await new VmReplication(pools.Target, [sourceSr], CascadeTests.Onward, new ReplicationSettings(), pools.Materializer)
            .RunAsync(first.Targets[0].TargetVmUuid!);
        Assert.True(back.Status == RunStatus.Success, back.Error);
        Assert.False(back.Full);
        var disk = Assert.Single(back.Bases);
        Assert.Equal((await DiskUuidAsync(pools.Target, first.Targets[0].RestorePointUuid!), BaseOrigin.ContentKey),
            (disk.BaseSnapshotVdiUuid, disk.Origin));

        // Nothing changed since: the delta carries no block.
        Assert.Equal(VhdStreamWriter.ComputeLength(live.VirtualSize, 0),
            pools.SourceSim.Pool.Stats.BytesImported("/import_raw_vdi") - importedBefore);
        var point = await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, back.Targets[0].RestorePointUuid!);
        Assert.Equal(await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, back.SourceSnapshotUuid!), point);
        Assert.Equal(await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, first.SourceSnapshotUuid!), point);
        Assert.NotEqual(vm.Uuid, back.Targets[0].TargetVmUuid);
        Assert.Equal(liveSum, GuestWorkload.Checksum(pools.SourceSim.Pool, live.Uuid));
        Assert.Contains(back.Log, l => l.Name == "replica" && l.Message!.Contains($"VM {vm.Uuid} (tiny01) holding that content is left "
            + "as it is (it is running)", StringComparison.Ordinal));
    }

    private static async Task<string> DiskUuidAsync(Pool pool, string vmUuid)
        => (await pool.DisksAsync(await pool.VmAsync(await pool.VmRefAsync(vmUuid)))).Single().Vdi.Uuid;
}
