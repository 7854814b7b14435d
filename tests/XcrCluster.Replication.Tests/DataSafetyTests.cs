using XcrCluster.Domain.Vm;
using XcrCluster.Domain;
using XcrCluster.Replication.Recovery;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>A run never destroys what a user may need: replicas someone started, changed or deleted, VMs a person
/// made; it only removes what runs made (docs/xen-orchestra.md §7, §15).</summary>
public sealed class DataSafetyTests
{
    private static async Task<(TwoPools Pools, VmRecord Vm, TargetSpec Target, RunResult First)> ReplicatedOnceAsync(string vmName = "db01")
    {
        var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync(vmName);
        var target = await pools.TargetAsync();
        var first = await pools.Replication(new ReplicationSettings { CopyRetention = 3 }, target).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        return (pools, vm, target, first);
    }

    [Fact]
    public async Task A_started_replica_is_never_touched_and_the_next_run_builds_a_new_protected_replica_as_a_delta()
    {
        var (pools, vm, target, first) = await ReplicatedOnceAsync();
        await using var _ = pools;
        var replicaUuid = first.Targets[0].TargetVmUuid!;
        var replicaRef = await pools.Target.VmRefAsync(replicaUuid);

        // Force start as Xen Orchestra does it: the start block removed for good, then started; the guest writes.
        await pools.Target.Client.CallAsync("VM.remove_from_blocked_operations", replicaRef, "start");
        await pools.Target.Client.CallAsync("VM.remove_from_blocked_operations", replicaRef, "start_on");
        await pools.Target.Client.CallAsync("VM.start", replicaRef, false, false);
        GuestWorkload.Write(pools.TargetSim.Pool, replicaUuid, 0, 3, 5);
        var startedDisks = await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, replicaUuid);
        var startedRecord = await pools.Target.VmAsync(replicaRef);

        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 2, 6);
        var next = await pools.Replication(new ReplicationSettings { CopyRetention = 3 }, target).RunAsync(vm.Uuid);
        Assert.True(next.Status == RunStatus.Success, next.Error);
        Assert.False(next.Full);
        Assert.NotEqual(replicaUuid, next.Targets[0].TargetVmUuid);
        Assert.Contains(next.Log, l => l.Name == "replica" && l.Message!.Contains("running", StringComparison.Ordinal));
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, next);

        var started = await pools.Target.VmAsync(replicaRef);
        Assert.Equal("Running", started.PowerState);
        Assert.Equal(startedRecord.BlockedOperations, started.BlockedOperations);
        Assert.Equal(startedRecord.NameLabel, started.NameLabel);
        Assert.Equal(startedRecord.Vbds.Order(), started.Vbds.Order());
        Assert.Equal(startedDisks, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, replicaUuid));

        var fresh = await pools.Target.VmAsync(await pools.Target.VmRefAsync(next.Targets[0].TargetVmUuid!));
        Assert.Equal("Halted", fresh.PowerState);
        Assert.Equal(XoMetadata.StartBlocked, fresh.BlockedOperations["start"]);
        await PoolInvariants.AssertNextRunIsExactDeltaAsync(pools, vm.Uuid, target, new ReplicationSettings { CopyRetention = 3 });
    }

    [Fact]
    public async Task A_halted_replica_whose_disks_changed_is_left_as_it_is_and_a_new_one_is_built_as_a_delta()
    {
        var (pools, vm, target, first) = await ReplicatedOnceAsync();
        await using var _ = pools;
        var replicaUuid = first.Targets[0].TargetVmUuid!;
        GuestWorkload.Write(pools.TargetSim.Pool, replicaUuid, 0, 2, 9); // someone wrote into the replica's disk
        var changed = await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, replicaUuid);

        var next = await pools.Replication(new ReplicationSettings { CopyRetention = 3 }, target).RunAsync(vm.Uuid);
        Assert.True(next.Status == RunStatus.Success, next.Error);
        Assert.False(next.Full);
        Assert.NotEqual(replicaUuid, next.Targets[0].TargetVmUuid);
        Assert.Contains(next.Log, l => l.Name == "replica"
            && l.Message!.Contains("changed since its last restore point", StringComparison.Ordinal));
        Assert.Equal(changed, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, replicaUuid));
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, next);
    }

    [Fact]
    public async Task A_replica_deleted_by_hand_is_rebuilt_from_the_last_restore_point_as_a_delta()
    {
        var (pools, vm, target, first) = await ReplicatedOnceAsync();
        await using var _ = pools;
        var replica = await pools.Target.VmAsync(await pools.Target.VmRefAsync(first.Targets[0].TargetVmUuid!));
        var disks = await pools.Target.DisksAsync(replica);
        await pools.Target.Client.CallAsync("VM.destroy", replica.Ref);
        foreach (var (_, vdi) in disks)
        {
            await pools.Target.Client.CallAsync("VDI.destroy", vdi.Ref);
        }

        for (var run = 0; run < 2; run++)
        {
            GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 2, 10 + run);
            var next = await pools.Replication(new ReplicationSettings { CopyRetention = 3 }, target).RunAsync(vm.Uuid);
            Assert.True(next.Status == RunStatus.Success, next.Error);
            Assert.False(next.Full);
            await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, next);
        }
    }

    [Fact]
    public async Task Migration_blocks_left_by_a_killed_run_are_never_taken_for_the_previous_value()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("db01");
        foreach (var op in new[] { "pool_migrate", "migrate_send" })
        {
            await pools.Source.Client.CallAsync("VM.add_to_blocked_operations", vm.Ref, op,
                XoMetadata.MigrationBlocked); // what kill -9 leaves
        }

        var run = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(run.Status == RunStatus.Success, run.Error);
        var after = await pools.Source.VmAsync(vm.Ref);
        Assert.False(after.BlockedOperations.ContainsKey("pool_migrate"));
        Assert.False(after.BlockedOperations.ContainsKey("migrate_send"));
    }

    [Fact]
    public async Task A_run_destroys_only_what_runs_made_and_refuses_anything_else()
    {
        await using var pools = await TwoPools.StartAsync();
        var scope = new RunScope(pools.Target, TwoPools.Job, "source-vm-uuid");
        var personal = await pools.Target.VmAsync(await pools.Target.VmRefAsync(await pools.TargetSim.UuidAsync("VM", "db01")));
        foreach (var reason in Enum.GetValues<DestroyReason>())
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => scope.DestroyVmAsync(personal, reason));
        }

        // Marked by a run's creating call: a leftover it may remove. The same VM running: never.
        var marked = (string)(await pools.Target.Client.CallAsync("VM.clone", personal.Ref, "leftover"))!;
        await pools.Target.SetOtherConfigAsync("VM", marked, new Dictionary<string, string?> { [RunScope.ImportingKey] = scope.Marker });
        await pools.Target.Client.CallAsync("VM.start", marked, false, false);
        var running = await pools.Target.VmAsync(marked);
        await scope.DestroyVmAsync(running, DestroyReason.LeftoverOfInterruptedRun); // a health-check copy an interrupted run started
        await Assert.ThrowsAsync<Xapi.XapiException>(() => pools.Target.VmAsync(marked));

        var other = (string)(await pools.Target.Client.CallAsync("VM.clone", personal.Ref, "someone else's"))!;
        await pools.Target.SetOtherConfigAsync("VM", other,
            new Dictionary<string, string?> { [RunScope.ImportingKey] = "another-job/another-vm" });
        await Assert.ThrowsAsync<InvalidOperationException>(
            async () => await scope.DestroyVmAsync(await pools.Target.VmAsync(other), DestroyReason.LeftoverOfInterruptedRun));
        Assert.Equal("Halted", (await pools.Target.VmAsync(personal.Ref)).PowerState); // still there, untouched
    }

    [Fact]
    public async Task Only_a_failover_test_clone_of_the_vm_past_its_time_is_an_orphan_a_run_destroys_even_running()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = Guid.NewGuid().ToString();
        var scope = new RunScope(pools.Target, TwoPools.Job, vm);
        var personal = await pools.Target.VmAsync(await pools.Target.VmRefAsync(await pools.TargetSim.UuidAsync("VM", "db01")));
        async Task<VmRecord> CloneAsync(string name)
            => await pools.Target.VmAsync((string)(await pools.Target.Client.CallAsync("VM.clone", personal.Ref, name))!);
        var (past, future) = (DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal(vm, FailoverTestMark.Read(FailoverTestMark.Name("db01", vm, past))?.Vm);

        // A test that may still run, another VM's clone, a copy someone made of a clone: never.
        var kept = new[]
        {
            await CloneAsync(FailoverTestMark.Name("db01", vm, future)),
            await CloneAsync(FailoverTestMark.Name("db01", Guid.NewGuid().ToString(), past)),
            await CloneAsync(FailoverTestMark.Name("db01", vm, past) + "_COPY"),
        };
        foreach (var clone in kept)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => scope.DestroyVmAsync(clone, DestroyReason.FailoverTestOrphan));
        }

        var orphan = await CloneAsync(FailoverTestMark.Name("db01", vm, past));
        await pools.Target.StartVmAsync(orphan.Ref, startPaused: false, force: false);
        await scope.DestroyVmAsync(await pools.Target.VmAsync(orphan.Ref), DestroyReason.FailoverTestOrphan);
        await Assert.ThrowsAsync<Xapi.XapiException>(() => pools.Target.VmAsync(orphan.Ref));
        foreach (var clone in kept)
        {
            Assert.Equal(clone.Uuid, (await pools.Target.VmAsync(clone.Ref)).Uuid); // still there
        }

        Assert.Equal("Halted", (await pools.Target.VmAsync(personal.Ref)).PowerState);
    }
}
