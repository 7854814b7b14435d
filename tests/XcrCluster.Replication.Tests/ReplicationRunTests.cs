using XcrCluster.Domain.Vm;
using XcrCluster.Domain;
using XcrCluster.Vhd;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>Runs of one VM between simulated pools; byte counts come from the simulators' /sim/stats.</summary>
public sealed class ReplicationRunTests
{
    [Fact]
    public async Task The_first_run_is_full_and_after_k_guest_blocks_the_next_sends_exactly_those_blocks()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("db01");
        var replication = pools.Replication(new ReplicationSettings(), await pools.TargetAsync());
        var first = await replication.RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        Assert.True(first.Full);
        Assert.Equal(FullReason.NoExportedSnapshot, Assert.Single(first.Bases).Reason);
        await AssertRestorePointEqualsSnapshotAsync(pools, first);

        const int k = 3;
        var written = GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, k, 21).Blocks;
        var exportsBefore = pools.ExportRequests;
        var importedBefore = pools.ImportedBytes;
        var second = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(second.Status == RunStatus.Success, second.Error);
        Assert.False(second.Full);
        Assert.Equal(1, pools.ExportRequests - exportsBefore);
        var disk = (await pools.Source.DisksAsync(vm)).Single().Vdi;
        Assert.Equal(VhdStreamWriter.ComputeLength(disk.VirtualSize, written.Count), pools.ImportedBytes - importedBefore);
        await AssertRestorePointEqualsSnapshotAsync(pools, second);
        Assert.Equal(second.Targets[0].TargetVmUuid, first.Targets[0].TargetVmUuid);
    }

    /// <summary>The restore point's disks hold exactly the source snapshot's content, and so does the live target.</summary>
    internal static async Task AssertRestorePointEqualsSnapshotAsync(TwoPools pools, RunResult run)
    {
        var source = await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, run.SourceSnapshotUuid!);
        foreach (var target in run.Targets)
        {
            Assert.Equal(source, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, target.RestorePointUuid!));
            Assert.Equal(source, await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, target.TargetVmUuid!));
        }
    }

    [Fact]
    public async Task Two_target_srs_are_fed_by_one_export_and_retention_and_full_interval_apply()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("web01");
        var settings = new ReplicationSettings { CopyRetention = 2, FullInterval = 3 };
        var targets = new[] { await pools.TargetAsync("Local storage"), await pools.TargetAsync("Second storage") };
        var fulls = new List<bool>();
        for (var run = 0; run < 4; run++)
        {
            GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 2, run);
            pools.CollectGarbage();
            var exports = pools.ExportRequests;
            var report = await pools.Replication(settings, targets).RunAsync(vm.Uuid);
            Assert.True(report.Status == RunStatus.Success, report.Error);
            Assert.Equal(2, pools.ExportRequests - exports); // one per disk, whatever the number of targets
            Assert.Equal(report.Targets[0].BytesSent, report.Targets[1].BytesSent);
            await AssertRestorePointEqualsSnapshotAsync(pools, report);
            fulls.Add(report.Full);
            if (run == 3)
            {
                Assert.All(report.Bases, b => Assert.Equal(FullReason.FullIntervalReached, b.Reason));
            }
        }

        Assert.Equal([true, false, false, true], fulls);
        foreach (var target in targets)
        {
            var points = (await pools.Target.Client.GetAllRecordsAsync<VmRecord>()).Count(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == target.SrUuid);
            Assert.Equal(2, points);
        }
    }

    [Fact]
    public async Task A_stalled_target_is_dropped_with_its_own_error_while_the_other_completes_and_the_source_is_marked_exported()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("web01");
        var healthy = await pools.TargetAsync();
        var impatient = await pools.ConnectAsync(pools.SourceSim, new XapiClientOptions { StallTimeout = TimeSpan.FromSeconds(2) });
        var stalled = new TargetSpec(impatient, await pools.SrUuidAsync(pools.Source, "Second storage"));
        pools.SourceSim.Pool.Faults.ImportBytesPerSecond = 1;
        var report = await pools.Replication(new ReplicationSettings(), healthy, stalled).RunAsync(vm.Uuid);
        pools.SourceSim.Pool.Faults.Clear();

        Assert.Equal(RunStatus.Failed, report.Status);
        Assert.True(report.Targets[0].Succeeded, report.Targets[0].Error);
        Assert.False(report.Targets[1].Succeeded);
        Assert.Contains("no data moved for 2 s", report.Targets[1].Error);
        Assert.Equal(await TwoPools.ChecksumsAsync(pools.SourceSim, pools.Source, vm.Uuid), await TwoPools.ChecksumsAsync(pools.TargetSim, pools.Target, report.Targets[0].RestorePointUuid!));

        // Xen Orchestra drops the failed writer and marks the snapshot after the others' transfers; the next run's base
        // selection sees the stalled target lacks it (SourceRotationTests covers that next run).
        var snapshot = await pools.Source.VmAsync(await pools.Source.VmRefAsync(report.SourceSnapshotUuid!));
        Assert.Equal("true", snapshot.OtherConfig.GetValueOrDefault(XoMetadata.Exported));
    }
}
