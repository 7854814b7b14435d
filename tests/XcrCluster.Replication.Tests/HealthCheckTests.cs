using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Tests;

/// <summary>The health check's settings act (spec xo-cr-semantics.md §2.12): per schedule, Xen Orchestra's opt-out tag and
/// tag filter, the timeout, and the fast clone when the restore point is already on the health-check SR.</summary>
public sealed class HealthCheckTests
{
    [Fact]
    public async Task A_run_of_the_schedule_with_a_health_check_SR_checks_and_a_run_of_the_other_does_not()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var job = new ReplicationSettings { CopyRetention = 2 };
        var checking = new JobSchedule("a") { HealthCheckSr = await pools.SrUuidAsync(pools.Target, "Second storage") };
        var plain = new JobSchedule("b");

        var checkedRun = await pools.Replication(checking.Apply(job), target).RunAsync(vm.Uuid);
        Assert.True(checkedRun.Status == RunStatus.Success, checkedRun.Error);
        Assert.Equal("success", checkedRun.Log.Single(l => l.Name == "health check").Status);

        var before = CloneOrCopyCalls(pools);
        var plainRun = await pools.Replication(plain.Apply(job), target).RunAsync(vm.Uuid);
        Assert.True(plainRun.Status == RunStatus.Success, plainRun.Error);
        Assert.DoesNotContain(plainRun.Log, l => l.Name == "health check");
        Assert.Equal(before, CloneOrCopyCalls(pools));
    }

    [Fact]
    public async Task A_VM_tagged_xo_no_health_check_is_not_checked_and_the_log_says_why()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        await pools.Source.AddTagAsync(vm.Ref, "xo:no-health-check=database");
        var target = await pools.TargetAsync();
        var report = await pools.Replication(new ReplicationSettings { HealthCheckSr = target.SrUuid }, target).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        var line = report.Log.Single(l => l.Name == "health check");
        Assert.Equal(("skipped", "the VM has the tag \"xo:no-health-check=database\": no health check"), (line.Status, line.Message));
        Assert.Equal(0, CloneOrCopyCalls(pools));
    }

    [Fact]
    public async Task The_schedules_tags_leave_out_a_VM_without_them_with_Xen_Orchestras_words_and_check_one_with_them()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var settings = new ReplicationSettings { HealthCheckSr = target.SrUuid, HealthCheckVmsWithTags = ["web", "db"] };
        var report = await pools.Replication(settings, target).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        var line = report.Log.Single(l => l.Name == "health check");
        Assert.Equal(("info", "This VM doesn't match the health check's tags for this schedule"), (line.Status, line.Message));
        Assert.Equal(0, CloneOrCopyCalls(pools));

        await pools.Source.AddTagAsync(vm.Ref, "db");
        report = await pools.Replication(settings, target).RunAsync(vm.Uuid);
        Assert.Equal("success", report.Log.Single(l => l.Name == "health check").Status);
    }

    [Fact]
    public async Task A_guest_that_never_answers_fails_the_check_at_the_timeout_and_the_clone_is_gone()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        pools.TargetSim.Pool.Faults.NoGuestAgent = true;
        var settings = new ReplicationSettings { HealthCheckSr = target.SrUuid, HealthCheckTimeout = TimeSpan.FromSeconds(2) };
        var report = await pools.Replication(settings, target).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error); // the restore point is complete and kept
        var line = report.Log.Single(l => l.Name == "health check");
        Assert.Equal(("failure", "the clone's guest did not answer within 2 s (healthCheckTimeout)"), (line.Status, line.Message));
        var took = line.End - line.Start;
        Assert.InRange(took, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20));
        Assert.DoesNotContain(await pools.Target.Client.GetAllRecordsAsync<VmRecord>(),
            v => v.NameLabel.StartsWith("Health Check", StringComparison.Ordinal));
        Assert.Single(await RestorePointsAsync(pools, target.SrUuid));
    }

    [Fact]
    public async Task A_restore_point_on_the_health_check_SR_is_cloned_and_stays_intact_and_usable()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var orphansBefore = await OrphanDisksAsync(pools);
        var settings = new ReplicationSettings { HealthCheckSr = target.SrUuid, CopyRetention = 3 };
        var first = await pools.Replication(settings, target).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        var line = first.Log.Single(l => l.Name == "health check");
        Assert.Equal("success", line.Status);
        Assert.StartsWith($"the clone on SR {target.SrUuid} started", line.Message);
        var calls = pools.TargetSim.Pool.Stats.CallCounts();
        Assert.Equal(1, calls.GetValueOrDefault("VM.clone"));
        Assert.False(calls.ContainsKey("VM.copy"), "a restore point already on the health-check SR was copied");

        // The clone's disks went with it; the restore point's disks hold what the source snapshot held, before and after
        // the SR's garbage collector coalesced the chain the clone shared.
        Assert.Equal(orphansBefore, await OrphanDisksAsync(pools));
        Assert.DoesNotContain(await pools.Target.Client.GetAllRecordsAsync<VmRecord>(),
            v => v.NameLabel.StartsWith("Health Check", StringComparison.Ordinal));
        var point = Assert.Single(await RestorePointsAsync(pools, target.SrUuid));
        var expected = await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, first.SourceSnapshotUuid!);
        Assert.Equal(expected, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, point.Uuid));
        pools.CollectGarbage();
        Assert.Equal(expected, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, point.Uuid));

        // Usable: the next run is a delta on it, and it is still there and whole afterwards.
        XapiSim.Storage.GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 1, 7);
        var second = await pools.Replication(settings, target).RunAsync(vm.Uuid);
        Assert.True(second.Status == RunStatus.Success, second.Error);
        Assert.False(second.Full);
        Assert.Equal(2, (await RestorePointsAsync(pools, target.SrUuid)).Count);
        Assert.Equal(expected, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, point.Uuid));
    }

    [Fact]
    public async Task A_restore_point_on_another_SR_is_copied_to_the_health_check_SR()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var checkSr = await pools.SrUuidAsync(pools.Target, "Second storage");
        var report = await pools.Replication(new ReplicationSettings { HealthCheckSr = checkSr }, target).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        Assert.StartsWith($"the copy on SR {checkSr} started", report.Log.Single(l => l.Name == "health check").Message);
        var calls = pools.TargetSim.Pool.Stats.CallCounts();
        Assert.Equal(1, calls.GetValueOrDefault("VM.copy"));
        Assert.False(calls.ContainsKey("VM.clone"));
    }

    private static long CloneOrCopyCalls(TwoPools pools)
        => pools.TargetSim.Pool.Stats.CallCounts().Where(c => c.Key is "VM.clone" or "VM.copy").Sum(c => c.Value);

    /// <summary>Managed disks no VM uses: what a destroyed clone would leave if its disks stayed.</summary>
    private static async Task<List<string>> OrphanDisksAsync(TwoPools pools)
        => [.. (await pools.Target.Client.GetAllRecordsAsync<VdiRecord>()).Where(v => v.Managed && v.Vbds.Count == 0).Select(v => v.Uuid)
            .Order(StringComparer.Ordinal)];

    private static async Task<List<VmRecord>> RestorePointsAsync(TwoPools pools, string sr)
        => [.. (await pools.Target.Client.GetAllRecordsAsync<VmRecord>())
            .Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == sr)];
}
