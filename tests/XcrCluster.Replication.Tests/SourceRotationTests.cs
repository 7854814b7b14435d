using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>The source side's settings as Xen Orchestra applies them (issue 15): snapshotRetention across the job's schedules,
/// the exported flag when only some targets succeeded, and the unhealthy-chain check.</summary>
[Collection("processes")]
public sealed class SourceRotationTests
{
    private static readonly JobRef Weekly = TwoPools.Job with { ScheduleId = "5c4d-weekly-schedule", ScheduleName = "weekly" };

    /// <summary>Each run an hour after the previous one, so snapshots of runs a second apart never share a datetime.</summary>
    private sealed class Hourly : TimeProvider
    {
        private DateTimeOffset now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance() => now = now.AddHours(1);
    }

    private readonly Hourly clock = new();

    private async Task<RunResult> RunAsync(TwoPools pools, JobRef job, int snapshotRetention, string vm, params TargetSpec[] targets)
    {
        clock.Advance();
        pools.CollectGarbage(); // as an SR's collector does between runs an hour apart
        return await new VmReplication(pools.Source, targets, job, new ReplicationSettings { SnapshotRetention = snapshotRetention },
            pools.Materializer, clock).RunAsync(vm);
    }

    /// <summary>This job's snapshots of the VM on the source (not a same-pool target's restore points), by uuid.</summary>
    private static async Task<HashSet<string>> JobSnapshotsAsync(TwoPools pools, string vmUuid)
    {
        var vm = await pools.Source.VmRefAsync(vmUuid);
        return [.. (await pools.Source.Client.GetAllRecordsAsync<VmRecord>()).Where(v => v.IsASnapshot && v.SnapshotOf == vm
            && v.OtherConfig.GetValueOrDefault(XoMetadata.Job) == TwoPools.Job.JobId).Select(v => v.Uuid)];
    }

    [Fact]
    public async Task Snapshot_retention_counts_per_schedule_in_total_and_the_newest_exported_snapshot_survives_a_failed_run()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = (await pools.SourceVmAsync("tiny01")).Uuid;
        var target = await pools.TargetAsync();

        // snapshotRetention 1: each schedule keeps its newest snapshot, this run's included (XO's getOldEntries per schedule).
        var a1 = await RunAsync(pools, TwoPools.Job, 1, vm, target);
        var b1 = await RunAsync(pools, Weekly, 1, vm, target);
        var a2 = await RunAsync(pools, TwoPools.Job, 1, vm, target);
        Assert.All(new[] { a1, b1, a2 }, r => Assert.True(r.Status == RunStatus.Success, r.Error));
        Assert.Equal(new[] { a2.SourceSnapshotUuid!, b1.SourceSnapshotUuid! }.Order(), (await JobSnapshotsAsync(pools, vm)).Order());

        // snapshotRetention 0, a run of the weekly schedule that no target completes: its snapshot goes, and so does the
        // weekly schedule's older one, but the daily schedule's a2 stays although it is beyond retention: it is the newest
        // exported snapshot across the schedules (XO #8051), the base of the next run. (XO would keep the failed run's own
        // snapshot instead and send the next run full: we keep the newest exported one, our documented improvement.)
        GuestWorkload.Write(pools.SourceSim.Pool, vm, 0, 2, 7);
        pools.TargetSim.Pool.Faults.FailCall("VM.snapshot");
        var failed = await RunAsync(pools, Weekly, 0, vm, target);
        pools.TargetSim.Pool.Faults.Clear();
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal(a2.SourceSnapshotUuid, Assert.Single(await JobSnapshotsAsync(pools, vm)));

        // The weekly schedule's next run is a delta from the daily schedule's snapshot, then the only one left.
        var b2 = await RunAsync(pools, Weekly, 0, vm, target);
        Assert.True(b2.Status == RunStatus.Success, b2.Error);
        Assert.False(b2.Full);
        Assert.Equal(b2.SourceSnapshotUuid, Assert.Single(await JobSnapshotsAsync(pools, vm)));
        Assert.Equal(await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, vm),
            await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, b2.Targets[0].TargetVmUuid!));
    }

    [Fact]
    public async Task A_snapshot_some_target_received_is_marked_exported_and_the_target_that_failed_gets_a_full_next()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = (await pools.SourceVmAsync("tiny01")).Uuid;
        var failing = await pools.TargetAsync();
        var healthy = new TargetSpec(pools.Source, await pools.SrUuidAsync(pools.Source, "Second storage"));
        var first = await RunAsync(pools, TwoPools.Job, 0, vm, failing, healthy);
        Assert.True(first.Status == RunStatus.Success, first.Error);

        // The target pool's commit fails: that target is dropped from the run, the other completes, and the snapshot is
        // marked exported (XO's markExportSuccessfull after the remaining writers' transfers).
        GuestWorkload.Write(pools.SourceSim.Pool, vm, 0, 2, 11);
        pools.TargetSim.Pool.Faults.FailCall("VM.snapshot");
        var partial = await RunAsync(pools, TwoPools.Job, 0, vm, failing, healthy);
        pools.TargetSim.Pool.Faults.Clear();
        Assert.Equal(RunStatus.Failed, partial.Status);
        Assert.Equal(new[] { false, true }, partial.Targets.Select(t => t.Succeeded));
        var snapshot = await pools.Source.VmAsync(await pools.Source.VmRefAsync(partial.SourceSnapshotUuid!));
        Assert.Equal("true", snapshot.OtherConfig.GetValueOrDefault(XoMetadata.Exported));
        Assert.Equal(partial.SourceSnapshotUuid, Assert.Single(await JobSnapshotsAsync(pools, vm)));

        // The failed target lacks that base: the intersection over targets makes the next run full for both (XO's
        // "Scenario 5"), never a delta onto a target that does not hold its base.
        var next = await RunAsync(pools, TwoPools.Job, 0, vm, failing, healthy);
        Assert.True(next.Status == RunStatus.Success, next.Error);
        Assert.True(next.Full);
        Assert.All(next.Bases, b => Assert.Equal(FullReason.MissingOnTarget, b.Reason));
        var source = await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, vm);
        Assert.Equal(source, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, next.Targets[0].TargetVmUuid!));
        Assert.Equal(source, await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, next.Targets[1].TargetVmUuid!));
    }

    /// <summary>VM.snapshot then the snapshot's removal, n times, with the collector paused: each leaves a hidden base copy.</summary>
    private static async Task UncoalesceAsync(TwoPools pools, string vmUuid, int times)
    {
        var client = pools.Source.Client;
        for (var i = 0; i < times; i++)
        {
            var vm = await pools.Source.VmAsync(await pools.Source.VmRefAsync(vmUuid));
            var snapshot = await pools.Source.VmAsync((string)(await client.CallTaskAsync("VM.snapshot", [vm.Ref, $"manual {i}"]))!);
            var disks = await pools.Source.DisksAsync(snapshot);
            await client.CallAsync("VM.destroy", snapshot.Ref);
            foreach (var (_, vdi) in disks)
            {
                await client.CallAsync("VDI.destroy", vdi.Ref);
            }
        }
    }

    [Fact]
    public async Task An_uncoalesced_base_copy_counts_only_when_its_single_child_is_a_base_copy_too()
    {
        await using var pools = await TwoPools.StartAsync();
        var target = await pools.TargetAsync();

        // One cycle: the base copy's only child is the managed disk itself, which some SRs never coalesce: healthy for XO.
        var tiny = (await pools.SourceVmAsync("tiny01")).Uuid;
        await UncoalesceAsync(pools, tiny, 1);
        var healthy = await pools.Replication(new ReplicationSettings { MaxUncoalescedVdis = 0 }, target).RunAsync(tiny);
        Assert.True(healthy.Status == RunStatus.Success, healthy.Error);

        // Two cycles: base copy <- base copy <- disk. One counts (the upper one's only child is hidden), so a tolerance
        // of 0 skips the VM and 1 lets it run.
        var db = (await pools.SourceVmAsync("db01")).Uuid;
        await UncoalesceAsync(pools, db, 2);
        var strict = await pools.Replication(new ReplicationSettings { MaxUncoalescedVdis = 0 }, target).RunAsync(db);
        Assert.Equal(RunStatus.Skipped, strict.Status);
        Assert.Contains("unhealthy VDI chain", strict.Error);
        Assert.Contains("1 uncoalesced", strict.Error);
        var tolerated = await pools.Replication(new ReplicationSettings { MaxUncoalescedVdis = 1 }, target).RunAsync(db);
        Assert.True(tolerated.Status == RunStatus.Success, tolerated.Error);
    }
}
