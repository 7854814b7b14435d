using System.Text.Json.Nodes;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr failover planned`: the source shut down cleanly, a final run, the replica started with exactly the source's
/// disks (zero data loss), the source left halted with its start blocked; a failed final step starts the source again.</summary>
public sealed class PlannedFailoverTests : RecoveryTest
{
    [Fact]
    public async Task A_planned_failover_starts_the_replica_with_the_source_disks_and_blocks_the_source()
    {
        var (jobId, vm, _) = await JobAsync();
        var first = await RunAsync(jobId);
        var replica = first["targets"]![0]!["targetVmUuid"]!.GetValue<string>();
        GuestWorkload.Write(Alpha.Pool, vm, 0, 3, seed: 41); // written after the last run: only the final run carries it

        var (code, stdout, stderr) = await XcrAsync("", "failover", "planned", vm, "--json");
        Assert.True(code == 0, stdout + stderr);
        var record = JsonNode.Parse(stdout)!;
        var id = record["id"]!.GetValue<string>();
        var outcome = record["vms"]![0]!;
        Assert.Equal("failover-planned", record["kind"]!.GetValue<string>());
        Assert.Equal(replica, outcome["result"]!.GetValue<string>());
        Assert.Equal("false", outcome["details"]!["full"]!.GetValue<string>());

        // Zero data loss: the halted source's disks are the started replica's.
        var source = await VmAsync(Alpha, vm);
        Assert.Equal("Halted", source["power_state"]);
        Assert.Equal("Running", (await VmAsync(Beta, replica))["power_state"]);
        Assert.Equal(await Alpha.DiskChecksumsAsync(vm), await Beta.DiskChecksumsAsync(replica));

        // The source's start is blocked by a message naming the replica, its pool and the record.
        var blocked = Map(source, "blocked_operations");
        var message = (string)blocked["start"]!;
        Assert.Equal(message, blocked["start_on"]);
        Assert.Contains(replica, message);
        Assert.Contains("pool beta", message);
        Assert.Contains(id, message);
        using (var rpc = Alpha.Json())
        {
            await rpc.LoginAsync(Alpha.Pool.Options.User, Alpha.Pool.Options.Password);
            var sourceRef = await RefOf(rpc, vm);
            var start = await Assert.ThrowsAnyAsync<Exception>(() => rpc.CallAsync("VM.start", sourceRef, false, false));
            Assert.Contains("OPERATION_BLOCKED", start.Message);
        }

        var shown = await OkAsync("run", "show", id);
        Assert.Contains($"failover-planned {id}: success", shown);
        Assert.Contains("clean shutdown of the source VM: success", shown);
        Assert.Contains("start the replica: success", shown);
        Assert.Contains("block the source VM's start: success", shown);
    }

    [Fact]
    public async Task A_replica_that_cannot_start_starts_the_source_again_and_nothing_is_lost()
    {
        var (jobId, vm, _) = await JobAsync();
        var first = await RunAsync(jobId);
        var replica = first["targets"]![0]!["targetVmUuid"]!.GetValue<string>();
        Beta.Pool.Faults.FailCall("VM.start");

        var (code, stdout, stderr) = await XcrAsync("", "failover", "planned", vm);
        Assert.True(code == 1, stdout + stderr);
        Assert.Contains("start of the replica", stderr);
        Assert.Contains("the source VM was started again", stderr);
        await AssertSourceRunningAndReplicaProtectedAsync(vm, replica);

        // The failed attempt's final run is a restore point like any other: the next run is a delta.
        await AssertDeltaEqualToSourceAsync(await RunAsync(jobId));
    }

    [Fact]
    public async Task A_final_run_that_fails_starts_the_source_again_and_leaves_the_replica_protected()
    {
        var (jobId, vm, _) = await JobAsync();
        var replica = (await RunAsync(jobId))["targets"]![0]!["targetVmUuid"]!.GetValue<string>();
        Alpha.Pool.Faults.FailCall("VM.snapshot");

        var (code, stdout, stderr) = await XcrAsync("", "failover", "planned", "--job", jobId); // the whole job: its one VM
        Assert.True(code == 1, stdout + stderr);
        Assert.Contains("final run", stderr);
        Assert.Contains("the source VM was started again", stderr);
        await AssertSourceRunningAndReplicaProtectedAsync(vm, replica);
        await AssertDeltaEqualToSourceAsync(await RunAsync(jobId));
    }

    /// <summary>What a planned failover that failed leaves: the source running again, the replica halted and protected.</summary>
    private async Task AssertSourceRunningAndReplicaProtectedAsync(string vm, string replica)
    {
        var source = await VmAsync(Alpha, vm);
        Assert.Equal("Running", source["power_state"]);
        Assert.Empty(Map(source, "blocked_operations"));
        var live = await VmAsync(Beta, replica);
        Assert.Equal("Halted", live["power_state"]);
        Assert.Equal(Domain.XoMetadata.StartBlocked, Map(live, "blocked_operations")["start"]);
    }

    [Fact]
    public async Task Refusals_name_the_reason_and_change_nothing()
    {
        var (jobId, vm, sr) = await JobAsync();
        var notCovered = await Alpha.UuidAsync("VM", "web01");
        Assert.Contains("no replica with a restore point", (await XcrAsync("", "failover", "planned", vm)).Stderr);
        await RunAsync(jobId);
        var before = (await InventoryAsync(Alpha), await InventoryAsync(Beta));

        var cases = new (string[] Args, string Reason)[]
        {
            (["failover", "planned"], "give one of"),
            (["failover", "planned", notCovered], "no job covers it"),
            (["failover", "planned", "--job", Guid.NewGuid().ToString()], "no job"),
        };
        foreach (var (args, reason) in cases)
        {
            var (code, stdout, stderr) = await XcrAsync("", args);
            Assert.True(code == 1, $"{string.Join(' ', args)}: {stdout}{stderr}");
            Assert.Contains(reason, stderr);
        }

        var dry = await OkAsync("failover", "planned", "--job", jobId, "--dry-run", "--json");
        Assert.Contains("would shut down VM " + vm, dry);
        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));

        // A source VM gone since its last run.
        var db = await Alpha.UuidAsync("VM", "db01");
        var created = await OkAsync("job", "create", "db", "--pool", "alpha", "--vm", db, "--sr", $"beta:{sr}");
        await RunAsync(created.Split('\n')[0]["job ".Length..].Trim());
        using (var rpc = Alpha.Json())
        {
            await rpc.LoginAsync(Alpha.Pool.Options.User, Alpha.Pool.Options.Password);
            await rpc.CallAsync("VM.destroy", await RefOf(rpc, db));
        }

        before = (await InventoryAsync(Alpha), await InventoryAsync(Beta));
        Assert.Contains($"source VM {db} does not exist on pool alpha", (await XcrAsync("", "failover", "planned", db)).Stderr);
        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));

        // A replica started already (a forced failover): nothing to fail over to.
        await OkAsync("failover", "start", vm, "--force", "--yes");
        before = (await InventoryAsync(Alpha), await InventoryAsync(Beta));
        Assert.Contains("it was started already", (await XcrAsync("", "failover", "planned", vm)).Stderr);
        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));
    }

    private static async Task<string> RefOf(RpcClient rpc, string uuid) => (string)(await rpc.CallAsync("VM.get_by_uuid", uuid))!;
}
