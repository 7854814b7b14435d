using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr failover test`: a clone of the newest restore point started on an isolated network (or none), its guest waited
/// on, the clone destroyed whatever happened; the replica and its chain untouched (the next run is a delta), and a clone a
/// dead node left removed by the VM's next run.</summary>
public sealed class FailoverTestCommandTests : RecoveryTest
{
    [Fact]
    public async Task A_test_on_an_isolated_network_runs_a_clone_with_the_replicas_vifs_there_then_destroys_it_and_the_next_is_a_delta()
    {
        var (jobId, vm, _) = await JobAsync();
        var first = await RunAsync(jobId);
        var point = first["targets"]![0]!["restorePointUuid"]!.GetValue<string>();
        var replica = first["targets"]![0]!["targetVmUuid"]!.GetValue<string>();
        var network = await CreateNetworkAsync("isolated failover test");
        var macs = await VifMacsAsync(replica);
        Assert.NotEmpty(macs);
        var before = await InventoryAsync(Beta);

        var (code, stdout, stderr) = await XcrAsync("", "failover", "test", vm, "--network", network, "--timeout", "1m", "--json");
        Assert.True(code == 0, stdout + stderr);
        var record = JsonNode.Parse(stdout)!;
        Assert.Equal("failover-test", record["kind"]!.GetValue<string>());
        var details = record["vms"]![0]!["details"]!;
        Assert.Equal(point, details["restorePoint"]!.GetValue<string>());
        Assert.Equal(network, details["network"]!.GetValue<string>());
        Assert.Equal("true", details["cloneDestroyed"]!.GetValue<string>());
        Assert.StartsWith("started, guest answered in ", details["summary"]!.GetValue<string>());
        Assert.EndsWith(", clone destroyed", details["summary"]!.GetValue<string>());

        // While it ran, the clone had the replica's devices and MACs, on the isolated network only.
        var vifs = details["vifs"]!.GetValue<string>().Split(", ");
        Assert.Equal(macs.Select(m => $"{m.Device} {m.Mac} on {network}").Order(StringComparer.Ordinal), vifs);

        // Nothing is left: the clone and its disks are gone, the replica and restore points are as they were.
        await AssertUnchangedAsync(before);
        Assert.Equal(macs, await VifMacsAsync(replica));
        var shown = await OkAsync("run", "show", record["id"]!.GetValue<string>());
        Assert.Contains($"failover-test {record["id"]}: success", shown);
        Assert.Contains("start the clone: success", shown);
        Assert.Contains("destroy the clone: success", shown);

        var next = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(next);
        Assert.Equal(replica, next["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_job_option_tests_every_vm_of_the_job_and_without_a_network_the_clones_have_no_vif()
    {
        await AddPoolsAsync();
        var (tiny, db) = (await Alpha.UuidAsync("VM", "tiny01"), await Alpha.UuidAsync("VM", "db01"));
        var sr = await Beta.UuidAsync("SR", "Local storage");
        var jobId = (await OkAsync("job", "create", "two", "--pool", "alpha", "--vm", tiny, "--vm", db, "--sr", $"beta:{sr}"))
            .Split('\n')[0]["job ".Length..].Trim();
        Assert.Equal(0, (await XcrAsync("", "job", "run", jobId, "--wait")).Code);
        var before = await InventoryAsync(Beta);

        var (code, stdout, stderr) = await XcrAsync("", "failover", "test", "--job", jobId, "--json");
        Assert.True(code == 0, stdout + stderr);
        var record = JsonNode.Parse(stdout)!;
        Assert.Equal(jobId, record["jobId"]!.GetValue<string>());
        var vms = record["vms"]!.AsArray();
        Assert.Equal([tiny, db], vms.Select(v => v!["vm"]!.GetValue<string>()));
        foreach (var outcome in vms)
        {
            Assert.Equal("success", outcome!["status"]!.GetValue<string>());
            Assert.Equal("none", outcome["details"]!["network"]!.GetValue<string>());
            Assert.Equal("", outcome["details"]!["vifs"]!.GetValue<string>());
            Assert.Equal("true", outcome["details"]!["cloneDestroyed"]!.GetValue<string>());
        }

        await AssertUnchangedAsync(before);
        var text = await OkAsync("failover", "test", "--job", jobId);
        Assert.Equal(2, Regex.Matches(text, "success \\(started, guest answered in [0-9.]+ s, clone destroyed\\)").Count);
        await AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task A_start_that_fails_or_a_guest_that_never_answers_is_reported_and_leaves_nothing_behind()
    {
        var (jobId, vm, _) = await JobAsync();
        await RunAsync(jobId);
        var before = await InventoryAsync(Beta);

        Beta.Pool.Faults.FailCall("VM.start");
        var failedStart = await XcrAsync("", "failover", "test", vm);
        Assert.True(failedStart.Code == 1, failedStart.Stdout + failedStart.Stderr);
        Assert.Contains("INTERNAL_ERROR", failedStart.Stderr);
        await AssertUnchangedAsync(before);
        var shown = await ShowFailureAsync(failedStart.Stderr);
        Assert.Contains("start the clone: failure", shown);
        Assert.Contains("destroy the clone: success", shown);

        Beta.Pool.Faults.NoGuestAgent = true;
        var silent = await XcrAsync("", "failover", "test", vm, "--timeout", "2s");
        Assert.True(silent.Code == 1, silent.Stdout + silent.Stderr);
        Assert.Contains("did not answer", silent.Stderr);
        await AssertUnchangedAsync(before);
        shown = await ShowFailureAsync(silent.Stderr);
        Assert.Contains("start the clone: success", shown);
        Assert.Contains("wait for the guest: failure", shown);
        Assert.Contains("destroy the clone: success", shown);
        Beta.Pool.Faults.NoGuestAgent = false;

        // Refusals change nothing: a network that is not the pool's, one that reaches a physical network.
        var unknown = await XcrAsync("", "failover", "test", vm, "--network", Guid.NewGuid().ToString());
        Assert.Contains("is not a network of pool beta", unknown.Stderr);
        var physical = (string)(await Beta.AllRecordsAsync("network"))[0]["uuid"]!;
        var refused = await XcrAsync("", "failover", "test", vm, "--network", physical);
        Assert.True(refused.Code == 1, refused.Stdout + refused.Stderr);
        Assert.Contains("reaches a physical network", refused.Stderr);
        await AssertUnchangedAsync(before);

        await AssertDeltaEqualToSourceAsync(await RunAsync(jobId));
    }

    [Fact]
    public async Task A_clone_a_dead_test_left_is_removed_by_the_next_run_and_one_whose_test_may_still_run_is_left()
    {
        var (jobId, vm, _) = await JobAsync();
        var first = await RunAsync(jobId);
        var point = first["targets"]![0]!["restorePointUuid"]!.GetValue<string>();

        // As a node that died mid-test leaves it: a running clone named by its VM.clone call, its time over.
        var orphan = await CloneAsync(point, $"tiny01 [xcr failover test of {vm} until {Mark(DateTimeOffset.UtcNow.AddMinutes(-1))}]");
        var running = await CloneAsync(point, $"tiny01 [xcr failover test of {vm} until {Mark(DateTimeOffset.UtcNow.AddHours(1))}]");
        var past = Mark(DateTimeOffset.UtcNow.AddMinutes(-1));
        var person = await CloneAsync(point, $"tiny01 [xcr failover test of {vm} until {past}]_COPY");
        var orphanDisks = await DiskUuidsAsync(orphan);
        var busy = await XcrAsync("", "failover", "test", vm);
        Assert.True(busy.Code == 1, busy.Stdout + busy.Stderr);
        Assert.Contains($"may still be running: its clone {running}", busy.Stderr);

        var next = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(next);
        var vms = (await Beta.AllRecordsAsync("VM")).Select(r => (string)r["uuid"]!).ToHashSet();
        Assert.True(!vms.Contains(orphan), next.ToJsonString());
        Assert.Contains(running, vms);
        Assert.Contains(person, vms);
        var vdis = (await Beta.AllRecordsAsync("VDI")).Select(r => (string)r["uuid"]!).ToHashSet();
        Assert.All(orphanDisks, d => Assert.DoesNotContain(d, vdis));
    }

    /// <summary>Beta's VMs, snapshots and disks are those of <paramref name="before"/> (the difference named when not).</summary>
    private async Task AssertUnchangedAsync(string before)
    {
        var after = await InventoryAsync(Beta);
        var (was, now) = (before.Split(',').ToHashSet(), after.Split(',').ToHashSet());
        Assert.True(before == after, $"gone: {string.Join(' ', was.Except(now))}; new: {string.Join(' ', now.Except(was))}");
    }

    private static string Mark(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The record a failed single-VM test names in its error, as `xcr run show` prints it.</summary>
    private async Task<string> ShowFailureAsync(string stderr)
        => await OkAsync("run", "show", Regex.Match(stderr, @"failover-test (recovery-[0-9T-]+-[0-9a-f]+)").Groups[1].Value);

    private async Task<string> CreateNetworkAsync(string name)
    {
        using var rpc = await BetaRpcAsync();
        var network = (string)(await rpc.CallAsync("network.create", new Dictionary<string, object?>
        {
            ["name_label"] = name, ["name_description"] = "", ["MTU"] = 1500L, ["other_config"] = new Dictionary<string, object?>(),
            ["tags"] = new List<object?>(),
        }))!;
        return (string)(await rpc.RecordAsync("network", network))["uuid"]!;
    }

    /// <summary>A running clone of a restore point, made by hand.</summary>
    private async Task<string> CloneAsync(string pointUuid, string name)
    {
        using var rpc = await BetaRpcAsync();
        var clone = (string)(await rpc.CallAsync("VM.clone", (string)(await rpc.CallAsync("VM.get_by_uuid", pointUuid))!, name))!;
        await rpc.CallAsync("VM.set_is_a_template", clone, false);
        await rpc.CallAsync("VM.start", clone, false, false);
        return (string)(await rpc.RecordAsync("VM", clone))["uuid"]!;
    }

    private async Task<List<string>> DiskUuidsAsync(string vmUuid)
    {
        using var rpc = await BetaRpcAsync();
        var vm = await rpc.RecordAsync("VM", (string)(await rpc.CallAsync("VM.get_by_uuid", vmUuid))!);
        var disks = new List<string>();
        foreach (var vbd in (List<object?>)vm["VBDs"]!)
        {
            var record = await rpc.RecordAsync("VBD", (string)vbd!);
            if ((string)record["type"]! == "Disk")
            {
                disks.Add((string)(await rpc.RecordAsync("VDI", (string)record["VDI"]!))["uuid"]!);
            }
        }

        return disks;
    }

    private async Task<List<(string Device, string Mac)>> VifMacsAsync(string vmUuid)
    {
        using var rpc = await BetaRpcAsync();
        var vm = await rpc.RecordAsync("VM", (string)(await rpc.CallAsync("VM.get_by_uuid", vmUuid))!);
        var vifs = new List<(string, string)>();
        foreach (var vif in (List<object?>)vm["VIFs"]!)
        {
            var record = await rpc.RecordAsync("VIF", (string)vif!);
            vifs.Add(((string)record["device"]!, (string)record["MAC"]!));
        }

        return [.. vifs.Order()];
    }

    private async Task<RpcClient> BetaRpcAsync()
    {
        var rpc = Beta.Json();
        await rpc.LoginAsync(Beta.Pool.Options.User, Beta.Pool.Options.Password);
        return rpc;
    }
}
