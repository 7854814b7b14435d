using System.Text.Json.Nodes;
using XcrCluster.Domain;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr failover start`: a copy leaves the replica and its chain as they are, a forced start takes the replica out of
/// its chain; both are followed by a delta run, and every refusal changes nothing.</summary>
public sealed class FailoverCommandTests : RecoveryTest
{
    [Fact]
    public async Task A_copy_starts_a_clone_of_the_newest_restore_point_and_the_next_run_is_a_delta()
    {
        var (jobId, vm, sr) = await JobAsync();
        await RunAsync(jobId);
        var last = await RunAsync(jobId);
        var point = last["targets"]![0]!["restorePointUuid"]!.GetValue<string>();
        var replica = last["targets"]![0]!["targetVmUuid"]!.GetValue<string>();

        var (code, stdout, stderr) = await XcrAsync("", "failover", "start", vm, "--copy", "--json");
        Assert.True(code == 0, stdout + stderr);
        var record = JsonNode.Parse(stdout)!;
        var outcome = record["vms"]![0]!;
        Assert.Equal("success", outcome["status"]!.GetValue<string>());
        Assert.Equal(point, outcome["details"]!["restorePoint"]!.GetValue<string>());
        var clone = await VmAsync(Beta, outcome["result"]!.GetValue<string>());
        var live = await VmAsync(Beta, replica);
        Assert.Equal("Running", clone["power_state"]);
        Assert.Equal($"{live["name_label"]}_clone", clone["name_label"]);
        Assert.Empty(Map(clone, "blocked_operations"));
        Assert.DoesNotContain(XoMetadata.Job, Map(clone, "other_config").Keys);
        Assert.DoesNotContain(XoMetadata.Sr, Map(clone, "other_config").Keys);
        Assert.Equal(vm, Map(clone, "other_config")["xcr:failover-of"]);
        Assert.Equal(await Beta.DiskChecksumsAsync(point), await Beta.DiskChecksumsAsync((string)clone["uuid"]!));

        // The replica and its chain are untouched.
        Assert.Equal("Halted", live["power_state"]);
        Assert.Equal(XoMetadata.StartBlocked, Map(live, "blocked_operations")["start"]);

        // The record is found like a run, with its task tree.
        var shown = await OkAsync("run", "show", record["id"]!.GetValue<string>());
        Assert.Contains($"failover-copy {record["id"]}: success", shown);
        Assert.Contains("clone restore point " + point, shown);
        Assert.Contains("start the clone: success", shown);

        var next = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(next);
        Assert.Equal(replica, next["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
        Assert.Equal("Running", (await VmAsync(Beta, (string)clone["uuid"]!))["power_state"]);
        _ = sr;
    }

    [Fact]
    public async Task A_forced_start_starts_the_replica_after_confirmation_and_the_next_run_makes_a_new_replica_as_a_delta()
    {
        var (jobId, vm, _) = await JobAsync();
        var first = await RunAsync(jobId);
        var replica = first["targets"]![0]!["targetVmUuid"]!.GetValue<string>();
        var before = await InventoryAsync(Beta);

        var unconfirmed = await XcrAsync("", "failover", "start", vm, "--force");
        Assert.Equal(1, unconfirmed.Code);
        Assert.Contains("--yes", unconfirmed.Stderr);
        Assert.Equal(before, await InventoryAsync(Beta));

        var (code, stdout, stderr) = await XcrAsync("", "failover", "start", vm, "--force", "--yes");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains($"VM {vm}: success -> VM {replica}", stdout);
        var started = await VmAsync(Beta, replica);
        Assert.Equal("Running", started["power_state"]);
        Assert.DoesNotContain("start", Map(started, "blocked_operations").Keys);

        var again = await XcrAsync("", "failover", "start", vm, "--force", "--yes");
        Assert.Equal(1, again.Code);
        Assert.Contains("it was started already", again.Stderr);

        var next = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(next);
        Assert.NotEqual(replica, next["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
        Assert.Equal("Running", (await VmAsync(Beta, replica))["power_state"]);
    }

    [Fact]
    public async Task Refusals_name_the_reason_and_change_nothing()
    {
        var (jobId, vm, sr) = await JobAsync("tiny01", "copyRetention=3");
        var neverReplicated = await Alpha.UuidAsync("VM", "web01");
        Assert.Contains("no restore point of VM", (await XcrAsync("", "failover", "start", neverReplicated, "--copy")).Stderr);
        await RunAsync(jobId);
        var older = (await RunAsync(jobId))["targets"]![0]!["restorePointUuid"]!.GetValue<string>();
        await RunAsync(jobId);
        var before = (await InventoryAsync(Alpha), await InventoryAsync(Beta));

        var cases = new (string[] Args, string Reason)[]
        {
            (["failover", "start", vm], "give one of --copy"),
            (["failover", "start", vm, "--copy", "--restore-point", Guid.NewGuid().ToString()], "is not a known restore point"),
            (["failover", "start", vm, "--copy", "--sr", Guid.NewGuid().ToString()], "no restore point of VM"),
            (["failover", "start", vm, "--force", "--yes", "--restore-point", older], "start a copy of an older one"),
        };
        foreach (var (args, reason) in cases)
        {
            var (code, stdout, stderr) = await XcrAsync("", args);
            Assert.True(code == 1, $"{string.Join(' ', args)}: {stdout}{stderr}");
            Assert.Contains(reason, stderr);
        }

        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));
        var dry = await XcrAsync("", "failover", "start", vm, "--force", "--dry-run");
        Assert.True(dry.Code == 0, dry.Stderr);
        Assert.Contains("would start a copy", await OkAsync("failover", "start", vm, "--copy", "--dry-run", "--json"));
        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));
        _ = sr;
    }

    [Theory]
    [InlineData("--copy")]
    [InlineData("--force")]
    public async Task A_start_the_pool_refuses_leaves_the_target_pool_as_it_was_and_is_recorded(string mode)
    {
        var (jobId, vm, _) = await JobAsync();
        var replica = (await RunAsync(jobId))["targets"]![0]!["targetVmUuid"]!.GetValue<string>();
        var before = await InventoryAsync(Beta);
        var protection = Map(await VmAsync(Beta, replica), "blocked_operations");
        Beta.Pool.Faults.FailCall("VM.start", code: "HOST_NOT_ENOUGH_FREE_MEMORY");

        var (code, _, stderr) = await XcrAsync("", "failover", "start", vm, mode, "--yes");
        Assert.Equal(1, code);
        Assert.Contains("HOST_NOT_ENOUGH_FREE_MEMORY", stderr);
        Assert.Equal(before.Split(','), (await InventoryAsync(Beta)).Split(','));
        Assert.Equal(protection, Map(await VmAsync(Beta, replica), "blocked_operations"));
        Assert.DoesNotContain("xcr:failover-of", Map(await VmAsync(Beta, replica), "other_config").Keys);
        var id = stderr[(stderr.LastIndexOf("recovery-", StringComparison.Ordinal))..].TrimEnd(')', '\n', ' ');
        Assert.Contains(": failure", await OkAsync("run", "show", id));

        await AssertDeltaEqualToSourceAsync(await RunAsync(jobId));
    }
}
