using System.Globalization;
using System.Text.Json.Nodes;
using XcrCluster.Domain;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr failover start --job`: every replica of a job started in the source VMs' boot order and delays (carried by
/// the replicas, since XAPI resets both on snapshot and copy), a dry run that only shows the plan, and a failing VM that
/// does not stop the others.</summary>
public sealed class JobFailoverTests : RecoveryTest
{
    [Fact]
    public async Task A_whole_job_copy_starts_every_replica_in_boot_order_with_its_delay_and_the_next_run_is_a_delta()
    {
        // Same order for db01 and tiny01: the name decides; web01 comes last.
        var (jobId, vms) = await BootOrderedJobAsync(("web01", 2, 0), ("tiny01", 1, 2), ("db01", 1, 1));
        var run = await RunAllAsync(jobId);
        foreach (var (name, order, delay) in Orders)
        {
            var replica = await VmAsync(Beta, Target(run, vms[name])["targetVmUuid"]!.GetValue<string>());
            Assert.Equal((order, delay), BootOrder(replica));
        }

        var before = (await InventoryAsync(Alpha), await InventoryAsync(Beta));
        var plan = await OkAsync("failover", "start", "--job", jobId, "--copy", "--dry-run");
        var lines = plan.Split('\n');
        string[] expected = ["db01", "tiny01", "web01"];
        for (var i = 0; i < expected.Length; i++)
        {
            var (_, order, delay) = Orders.Single(o => o.Name == expected[i]);
            Assert.StartsWith($"VM {vms[expected[i]]}: #{i + 1}: order {order}, start delay {delay} s, restore point ", lines[i]);
            Assert.Contains("would start a copy of restore point " + Target(run, vms[expected[i]])["restorePointUuid"], lines[i]);
        }

        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));

        var (code, stdout, stderr) = await XcrAsync("", "failover", "start", "--job", jobId, "--copy", "--json");
        Assert.True(code == 0, stdout + stderr);
        var record = JsonNode.Parse(stdout)!;
        Assert.Equal("success", record["status"]!.GetValue<string>());
        var outcomes = record["vms"]!.AsArray().Select(v => v!).ToList();
        Assert.Equal(expected.Select(n => vms[n]), outcomes.Select(v => v["vm"]!.GetValue<string>()));
        DateTimeOffset? previousEnd = null;
        long previousDelay = 0;
        foreach (var (outcome, name) in outcomes.Zip(expected))
        {
            var (_, order, delay) = Orders.Single(o => o.Name == name);
            var clone = await VmAsync(Beta, outcome["result"]!.GetValue<string>());
            Assert.Equal("Running", clone["power_state"]);
            Assert.Equal((order, delay), BootOrder(clone));
            var start = outcome["log"]!.AsArray().Single(l => l!["name"]!.GetValue<string>() == "start the clone")!;
            if (previousEnd is { } end)
            {
                Assert.True(Time(start, "start") >= end.AddSeconds(previousDelay),
                    $"{name} started at {Time(start, "start"):O}, before {end:O} + {previousDelay} s");
            }

            (previousEnd, previousDelay) = (Time(start, "end"), delay);
        }

        Assert.Contains("wait 1 s (start delay) before the next VM", await OkAsync("run", "show", record["id"]!.GetValue<string>()));
        var next = await RunAllAsync(jobId);
        foreach (var vm in next)
        {
            await AssertDeltaEqualToSourceAsync(vm);
        }
    }

    [Fact]
    public async Task A_vm_whose_restore_points_are_gone_fails_while_the_others_start()
    {
        var (jobId, vms) = await BootOrderedJobAsync(("tiny01", 1, 0), ("web01", 0, 0));
        var run = await RunAllAsync(jobId);

        // Behind xcr's back on beta: web01's restore points are deleted.
        using (var rpc = Beta.Json())
        {
            await rpc.LoginAsync("root", Password);
            foreach (var point in await Beta.VmsWithAsync(XoMetadata.Vm, vms["web01"]))
            {
                if (point["is_a_snapshot"] is true)
                {
                    await rpc.CallAsync("VM.destroy", (string)(await rpc.CallAsync("VM.get_by_uuid", (string)point["uuid"]!))!);
                }
            }
        }

        var (code, stdout, stderr) = await XcrAsync("", "failover", "start", "--job", jobId, "--copy");
        Assert.True(code == 2, stdout + stderr);
        Assert.Contains("partial", stdout);
        var reason = $"VM {vms["web01"]}: failure — VM {vms["web01"]} has no restore point";
        Assert.True(stdout.Contains(reason, StringComparison.Ordinal), stdout);
        var started = stdout.Split('\n').Single(l => l.StartsWith($"VM {vms["tiny01"]}: success -> VM ", StringComparison.Ordinal));
        var clone = await VmAsync(Beta, started.Split(' ')[5]);
        Assert.Equal("Running", clone["power_state"]);
        var replica = await VmAsync(Beta, Target(run, vms["tiny01"])["targetVmUuid"]!.GetValue<string>());
        Assert.Equal("Halted", replica["power_state"]);

        var next = await RunAllAsync(jobId);
        await AssertDeltaEqualToSourceAsync(next.Single(v => v["vm"]!.GetValue<string>() == vms["tiny01"]));
    }

    [Fact]
    public async Task A_whole_job_forced_start_is_confirmed_starts_the_replicas_in_order_and_the_next_run_makes_new_ones_as_deltas()
    {
        var (jobId, vms) = await BootOrderedJobAsync(("web01", 1, 0), ("tiny01", 0, 1));
        var run = await RunAllAsync(jobId);
        var before = (await InventoryAsync(Alpha), await InventoryAsync(Beta));
        var point = Target(run, vms["web01"])["restorePointUuid"]!.GetValue<string>();
        var cases = new (string[] Args, string Reason)[]
        {
            (["failover", "start", "--job", jobId, "--force"], "--yes"),
            (["failover", "start", "--job", Guid.NewGuid().ToString(), "--copy"], "no job"),
            (["failover", "start", "--job", jobId, "--copy", "--restore-point", point], "a restore point is one VM's"),
            (["failover", "start", vms["web01"], "--job", jobId, "--copy"], "not both"),
        };
        foreach (var (args, reason) in cases)
        {
            var refused = await XcrAsync("", args);
            Assert.True(refused.Code == 1 && refused.Stderr.Contains(reason, StringComparison.Ordinal),
                $"{string.Join(' ', args)}: {refused.Stdout}{refused.Stderr}");
        }

        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));

        var (code, stdout, stderr) = await XcrAsync("", "failover", "start", "--job", jobId, "--force", "--yes", "--json");
        Assert.True(code == 0, stdout + stderr);
        var outcomes = JsonNode.Parse(stdout)!["vms"]!.AsArray().Select(v => v!).ToList();
        Assert.Equal([vms["tiny01"], vms["web01"]], outcomes.Select(v => v["vm"]!.GetValue<string>()));
        foreach (var outcome in outcomes)
        {
            var replica = Target(run, outcome["vm"]!.GetValue<string>())["targetVmUuid"]!.GetValue<string>();
            Assert.Equal(replica, outcome["result"]!.GetValue<string>());
            Assert.Equal("Running", (await VmAsync(Beta, replica))["power_state"]);
        }

        var starts = outcomes.Select(o => o["log"]!.AsArray().Single(l => l!["name"]!.GetValue<string>() == "start the replica")!)
            .ToList();
        Assert.True(Time(starts[1], "start") >= Time(starts[0], "end").AddSeconds(1), stdout);

        var next = await RunAllAsync(jobId);
        foreach (var vm in next)
        {
            await AssertDeltaEqualToSourceAsync(vm);
            Assert.NotEqual(Target(run, vm["vm"]!.GetValue<string>())["targetVmUuid"]!.GetValue<string>(),
                vm["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_network_mapping_to_a_network_the_target_pool_lacks_is_refused_for_every_vm_and_changes_nothing()
    {
        var (jobId, vms) = await BootOrderedJobAsync(("tiny01", 0, 0), ("web01", 0, 0));
        var network = await Alpha.UuidAsync("network", "Pool-wide network associated with eth0");
        var missing = Guid.NewGuid().ToString();
        await OkAsync("job", "set", jobId, $"networkMapping={network}={missing}");
        await RunAllAsync(jobId); // the replicas' VIFs fall back to beta's default network
        var before = (await InventoryAsync(Alpha), await InventoryAsync(Beta));

        var plan = await XcrAsync("", "failover", "start", "--job", jobId, "--copy", "--dry-run");
        Assert.True(plan.Code == 1, plan.Stdout + plan.Stderr);
        foreach (var vm in vms.Values)
        {
            Assert.Contains($"VM {vm}: failure — the job's network mapping sends network {network} to {missing}", plan.Stdout);
        }

        var (code, stdout, stderr) = await XcrAsync("", "failover", "start", "--job", jobId, "--copy");
        Assert.True(code == 1 && stderr.Contains($"no VM of job {jobId} can be failed over", StringComparison.Ordinal), stdout + stderr);
        Assert.Contains("a network this pool does not have", stderr);
        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));
    }

    private List<(string Name, long Order, long Delay)> Orders { get; } = [];

    /// <summary>A job of several alpha VMs to beta, each source VM given its boot order and start delay first.</summary>
    private async Task<(string JobId, Dictionary<string, string> Vms)> BootOrderedJobAsync(
        params (string Name, long Order, long Delay)[] vms)
    {
        await AddPoolsAsync();
        Orders.AddRange(vms);
        var uuids = new Dictionary<string, string>();
        using var rpc = Alpha.Json();
        await rpc.LoginAsync("root", Password);
        foreach (var (name, order, delay) in vms)
        {
            uuids[name] = await Alpha.UuidAsync("VM", name);
            var vmRef = (string)(await rpc.CallAsync("VM.get_by_uuid", uuids[name]))!;
            await rpc.CallAsync("VM.set_order", vmRef, order);
            await rpc.CallAsync("VM.set_start_delay", vmRef, delay);
        }

        var sr = await Beta.UuidAsync("SR", "Local storage");
        var created = await OkAsync(["job", "create", "hourly", "--pool", "alpha", .. uuids.Values.SelectMany(u => new[] { "--vm", u }),
            "--sr", $"beta:{sr}"]);
        return (created.Split('\n')[0]["job ".Length..].Trim(), uuids);
    }

    /// <summary>Runs the job by hand and waits; every VM of the run.</summary>
    private async Task<List<JsonNode>> RunAllAsync(string jobId)
    {
        var run = await XcrAsync("", "job", "run", jobId, "--wait");
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        var runId = run.Stdout.Split('\n')[0]["run ".Length..].Trim();
        using var http = Http();
        return [.. JsonNode.Parse(await http.GetStringAsync($"/api/jobs/{jobId}/runs/{runId}"))!["vms"]!.AsArray().Select(v => v!)];
    }

    private static JsonNode Target(List<JsonNode> run, string vm) => run.Single(v => v["vm"]!.GetValue<string>() == vm)["targets"]![0]!;

    private static (long, long) BootOrder(Dictionary<string, object?> vm)
        => (Convert.ToInt64(vm["order"], CultureInfo.InvariantCulture), Convert.ToInt64(vm["start_delay"], CultureInfo.InvariantCulture));

    private static DateTimeOffset Time(JsonNode line, string field) => line[field]!.GetValue<DateTimeOffset>();
}
