using XcrCluster.Domain.Vm;
using XcrCluster.Domain;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.Replication.Tests;

/// <summary>What the source side guards: migration blocked during a run and restored after, VMs being migrated
/// refused, what is out of scope refused before anything is created, and maxExportRate honoured.</summary>
public sealed class SourceGuardTests
{
    [Fact]
    public async Task Migration_is_blocked_while_the_run_goes_and_allowed_again_after_it()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var host = (await pools.Source.Client.GetAllRecordsAsync<HostRecord>()).First().Ref;
        pools.TargetSim.Pool.Faults.ImportBytesPerSecond = 4L << 20;
        var run = pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);

        await Poll.UntilAsync(() => pools.ImportedBytes > 0, "the import to start", TimeSpan.FromSeconds(60));
        var during = await Assert.ThrowsAsync<XapiException>(() => pools.Source.Client.CallAsync("VM.pool_migrate", vm.Ref, host, new Dictionary<string, object?>()));
        Assert.Equal("OPERATION_BLOCKED", during.Code);
        Assert.Contains(XoMetadata.MigrationBlocked, during.Message);

        var report = await run;
        Assert.True(report.Status == RunStatus.Success, report.Error);
        Assert.Empty((await pools.Source.VmAsync(vm.Ref)).BlockedOperations);
        await pools.Source.Client.CallAsync("VM.pool_migrate", vm.Ref, host, new Dictionary<string, object?>());
    }

    [Fact]
    public async Task A_block_set_by_the_operator_before_the_run_is_put_back_as_it_was()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        await pools.Source.Client.SetMapEntriesAsync("VM", vm.Ref, "blocked_operations", new Dictionary<string, string?> { ["pool_migrate"] = "maintenance window" });
        var report = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        Assert.Equal(new Dictionary<string, string> { ["pool_migrate"] = "maintenance window" }, (await pools.Source.VmAsync(vm.Ref)).BlockedOperations);
    }

    [Theory]
    [InlineData("migrating", "cannot backup a VM currently being migrated")]
    [InlineData("memory", "memory (checkpoint) replication is not supported")]
    [InlineData("large", "disks over 2 TiB")]
    public async Task What_cannot_be_replicated_is_refused_before_anything_is_created(string case_, string message)
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var disk = (await pools.Source.DisksAsync(vm))[0].Vdi;
        var db = pools.SourceSim.Pool.Db;
        lock (db.Sync)
        {
            switch (case_)
            {
                case "migrating":
                    db.Set(db.GetByUuid(Schemas.Vm, vm.Uuid), "current_operations", new Dictionary<string, object?> { ["OpaqueRef:task"] = "pool_migrate" });
                    break;
                case "memory":
                    db.Set(db.GetByUuid(Schemas.Vm, vm.Uuid), "tags", new List<object?> { XoMetadata.MemoryBackupTag });
                    break;
                default:
                    db.Set(db.GetByUuid(Schemas.Vdi, disk.Uuid), "virtual_size", 3L << 40);
                    break;
            }
        }

        var before = await Inventory(pools);
        var report = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.Equal(RunStatus.Failed, report.Status);
        Assert.Contains(message, report.Error);
        Assert.Equal(before, await Inventory(pools));
        Assert.Empty((await pools.Source.VmAsync(vm.Ref)).BlockedOperations);
    }

    [Fact]
    public void The_token_bucket_holds_one_second_and_charges_the_debt_of_a_large_take()
    {
        var bucket = new TokenBucket(1000);
        Assert.Equal(TimeSpan.Zero, bucket.Take(600, TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(0.2), bucket.Take(600, TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(2.2), bucket.Take(2000, TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(0.2), bucket.Take(0, TimeSpan.FromSeconds(2)));

        // Idle for long fills the bucket to one second only.
        Assert.Equal(TimeSpan.Zero, bucket.Take(1000, TimeSpan.FromSeconds(100)));
        Assert.Equal(TimeSpan.FromSeconds(0.5), bucket.Take(500, TimeSpan.FromSeconds(100)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(0));
    }

    [Fact]
    public async Task A_run_with_maxExportRate_reads_no_faster_than_the_rate()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        const long rate = 2L << 20;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = await pools.Replication(new ReplicationSettings { MaxExportRate = rate }, await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);

        // A lower bound, not a timing assertion: one second of tokens up front, the rest at the rate at most.
        var exported = pools.SourceSim.Pool.Stats.BytesExported("/export_raw_vdi");
        Assert.True(exported > 2 * rate, $"the disk is too small to see the limit: {exported} B");
        Assert.True(clock.Elapsed.TotalSeconds >= (exported - rate - (1L << 20)) / (double)rate, $"{exported} B in {clock.Elapsed.TotalSeconds:F2} s at most {rate} B/s");
    }

    private static async Task<List<string>> Inventory(TwoPools pools)
        => [.. (await pools.Target.Client.GetAllRecordsAsync<VmRecord>()).Select(v => $"VM {v.Uuid}")
            .Concat((await pools.Target.Client.GetAllRecordsAsync<VdiRecord>()).Select(v => $"VDI {v.Uuid}"))
            .Concat((await pools.Source.Client.GetAllRecordsAsync<VmRecord>()).Select(v => $"source VM {v.Uuid}")).Order()];
}
