using XcrCluster.Domain.Vm;
using XcrCluster.Domain;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>Settings that act on the target: deleteFirst makes room before the transfer, a health-check SR starts a
/// copy of each new restore point and removes it.</summary>
public sealed class TargetSettingsTests
{
    [Fact]
    public async Task Delete_first_removes_old_restore_points_before_the_transfer_and_keeps_the_base()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var settings = new ReplicationSettings { CopyRetention = 2, DeleteFirst = true };
        for (var run = 0; run < 3; run++)
        {
            GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 1, run);
            pools.CollectGarbage();
            var report = await pools.Replication(settings, target).RunAsync(vm.Uuid);
            Assert.True(report.Status == RunStatus.Success, report.Error);
            var names = report.Log.Select(l => l.Name).ToList();
            if (run < 2)
            {
                Assert.DoesNotContain("delete first", names); // nothing beyond copyRetention - 1 yet
            }
            else
            {
                var pruned = report.Log.Single(l => l.Name == "delete first");
                Assert.Equal("removed 1 old restore points before the transfer", pruned.Message);
                Assert.True(names.IndexOf("delete first") < names.FindIndex(n => n.StartsWith("transfer", StringComparison.Ordinal)));
                Assert.False(report.Full); // the newest point, the delta's base, was kept
            }

            Assert.Equal(Math.Min(run + 1, 2), (await RestorePointsAsync(pools, target.SrUuid)).Count);
        }
    }

    [Fact]
    public async Task A_health_check_starts_a_copy_of_the_new_restore_point_and_removes_it()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var checkSr = await pools.SrUuidAsync(pools.Target, "Second storage");
        var before = (await pools.Target.Client.GetAllRecordsAsync<VmRecord>()).Count;
        var report = await pools.Replication(new ReplicationSettings { HealthCheckSr = checkSr }, target).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        var check = report.Log.Single(l => l.Name == "health check");
        Assert.Equal(("success", target.SrUuid), (check.Status, check.Target));
        Assert.StartsWith($"the copy on SR {checkSr} started and its guest answered", check.Message);
        var after = await pools.Target.Client.GetAllRecordsAsync<VmRecord>();
        Assert.DoesNotContain(after, v => v.NameLabel.StartsWith("Health Check", StringComparison.Ordinal));
        Assert.Equal(before + 2, after.Count); // the replica and its restore point, nothing else
        Assert.Single(await RestorePointsAsync(pools, target.SrUuid));
    }

    [Fact]
    public async Task A_health_check_that_cannot_run_fails_its_task_and_keeps_the_restore_point()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var report = await pools.Replication(new ReplicationSettings { HealthCheckSr = Guid.NewGuid().ToString() }, target).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        Assert.Equal("failure", report.Log.Single(l => l.Name == "health check").Status);
        Assert.Single(await RestorePointsAsync(pools, target.SrUuid));
    }

    private static async Task<List<VmRecord>> RestorePointsAsync(TwoPools pools, string sr)
        => [.. (await pools.Target.Client.GetAllRecordsAsync<VmRecord>()).Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == sr)];
}
