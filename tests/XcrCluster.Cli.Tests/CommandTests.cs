using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr` against a real xcr-node process and two simulated pools: pools, their live SRs and VMs, a job, a run
/// with --wait, the run's task tree, the cluster in pbm's format, and the errors an operator gets.</summary>
public sealed class CommandTests : NodeAndPools
{
    [Fact]
    public async Task Pools_a_job_and_a_run_with_wait_then_its_task_tree_and_the_cluster()
    {
        await AddPoolsAsync();
        var pools = await XcrAsync("", "pool", "list", "--json");
        Assert.Equal(["alpha", "beta"], JsonNode.Parse(pools.Stdout)!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
        Assert.DoesNotContain(Password, pools.Stdout);

        var vm = await Alpha.UuidAsync("VM", "tiny01");
        var created = await XcrAsync("", "job", "create", "nightly", "--pool", "alpha", "--vm", vm, "--sr",
            $"beta:{await Beta.UuidAsync("SR", "Local storage")}", "--retention", "2", "--max-rate", "100MiB");
        Assert.Equal(0, created.Code);
        var lines = created.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("job ", lines[0]);
        Assert.StartsWith("schedule ", lines[1]);
        var jobId = lines[0]["job ".Length..].Trim();

        var run = await XcrAsync("", "job", "run", jobId, "--wait");
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        Assert.Contains($"{vm} | success | full", run.Stdout);
        var runId = run.Stdout.Split('\n')[0]["run ".Length..].Trim();

        var tree = await XcrAsync("", "run", "show", runId);
        Assert.Equal(0, tree.Code);
        Assert.Contains($"run {runId}: success", tree.Stdout);
        Assert.Contains("  VM " + vm + ": success", tree.Stdout);
        Assert.Contains("transfer", tree.Stdout);

        var runs = await XcrAsync("", "run", "list", "--job", jobId);
        Assert.StartsWith($"{runId} | {jobId} | {vm} | success | full | ", runs.Stdout);
        var replicas = JsonNode.Parse((await XcrAsync("", "replica", "list", "--vm", vm, "--json")).Stdout)!.AsArray();
        Assert.Single(Assert.Single(replicas)!["restorePoints"]!.AsArray());
        Assert.Contains("has no schedule", (await XcrAsync("", "job", "disable", jobId)).Stderr);
        Assert.Contains("no job", (await XcrAsync("", "job", "enable", "no-such-job")).Stderr);

        var jobs = await XcrAsync("", "job", "list");
        Assert.Contains($"{jobId} | nightly | alpha | 1 VMs | manual", jobs.Stdout);
        var rpo = JsonNode.Parse((await XcrAsync("", "rpo", "--json")).Stdout)!.AsArray().Single()!;
        Assert.Equal(vm, rpo["vm"]!.GetValue<string>());
        Assert.True(rpo["lagSeconds"]!.GetValue<double>() >= 0);
        Assert.False(rpo["violation"]!.GetValue<bool>()); // no schedule: nothing to be late against

        var cluster = await XcrAsync("", "cluster", "show");
        var members = cluster.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^akka\.tcp://xcr@127\.0\.0\.1:\d+ \| \[control, pool-all\] \| Up \| ", members[0]);
        Assert.Matches(@" \| reachable \| http http://127\.0\.0\.1:\d+ \| data 127\.0\.0\.1:\d+ \| agents \[alpha, beta\] \| "
            + "replicated-vm 1 shards 1 entities$", members[0]);
        Assert.Equal("Count: 1 nodes", members[^1]);
        Assert.Equal("replicated-vm", (await XcrAsync("", "sharding", "regions")).Stdout.Trim());
        var shards = await XcrAsync("", "sharding", "region-stats", "replicated-vm");
        Assert.Matches(@"shard \d+ \| 1 entities", shards.Stdout);
        Assert.Contains("no member", (await XcrAsync("", "cluster", "down", "akka.tcp://xcr@127.0.0.1:1")).Stderr);
        Assert.Equal("Count: 0 downed", (await XcrAsync("", "cluster", "down-unreachable")).Stdout.Trim());

        // The API describes itself (behind the token too).
        using var http = Http();
        var openApi = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;
        Assert.NotNull(openApi["paths"]!["/api/jobs/{id}/run"]);
        AssertNoPassword(Node.Stderr);
    }

    [Fact]
    public async Task A_job_with_a_schedule_due_in_seconds_runs_by_itself()
    {
        await AddPoolsAsync();
        var vm = await Alpha.UuidAsync("VM", "tiny01");
        var created = await XcrAsync("", "job", "create", "every-5s", "--pool", "alpha", "--vm", vm, "--sr",
            $"beta:{await Beta.UuidAsync("SR", "Local storage")}",
            "--cron", "*/5 * * * * *", "--timezone", "Europe/Paris");
        Assert.True(created.Code == 0, created.Stderr);

        // Due within 5 s; the scheduler looks every second and the run is started within 10 s of its due time.
        using var http = Http();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var response = await http.GetAsync($"/api/vms/{vm}");
            if (response.IsSuccessStatusCode && JsonNode.Parse(await response.Content.ReadAsStringAsync()) is { } status
                && (status["running"] is not null || status["runs"]!.AsArray().Count > 0))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "no scheduled run started within 15 s of the job's creation");
            await Task.Delay(250);
        }

        // Disabled, the schedule stops starting runs; the job list says so.
        var jobId = created.Stdout.Split('\n')[0]["job ".Length..].Trim();
        Assert.Equal(0, (await XcrAsync("", "job", "disable", jobId)).Code);
        Assert.Contains("(disabled)", (await XcrAsync("", "job", "list")).Stdout);

        var bad = await XcrAsync("", "job", "create", "never", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{Guid.NewGuid()}", "--cron",
            "61 * * * *");
        Assert.Equal(1, bad.Code);
        Assert.Contains("schedule: cron", bad.Stderr);
    }

    [Fact]
    public async Task Srs_and_vms_are_read_live_from_the_pools_and_a_replica_is_marked_on_its_pool()
    {
        await AddPoolsAsync();
        var betaSr = await Beta.UuidAsync("SR", "Local storage");
        var srs = await XcrAsync("", "sr", "list", "--pool", "beta", "--json");
        Assert.True(srs.Code == 0, srs.Stderr);
        var local = JsonNode.Parse(srs.Stdout)!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "Local storage")!;
        Assert.Equal(["beta", betaSr], new[] { local["pool"]!.GetValue<string>(), local["id"]!.GetValue<string>() });
        Assert.Equal(100L << 30, local["size"]!.GetValue<long>());
        Assert.InRange(local["free"]!.GetValue<long>(), 1, (100L << 30) - 1);
        Assert.Equal(local["size"]!.GetValue<long>() - local["used"]!.GetValue<long>(), local["free"]!.GetValue<long>());
        var allSrs = (await XcrAsync("", "sr", "list")).Stdout;
        Assert.Contains($"beta | {betaSr} | Local storage | ext | 100.0 GiB | ", allSrs);
        Assert.EndsWith("Count: 4 SRs", allSrs.Trim());

        var (web01, db01, tiny01) = (await Alpha.UuidAsync("VM", "web01"), await Alpha.UuidAsync("VM", "db01"),
            await Alpha.UuidAsync("VM", "tiny01"));
        var vms = await XcrAsync("", "vm", "list", "--pool", "alpha");
        Assert.True(vms.Code == 0, vms.Stderr);
        Assert.Equal(
            [$"alpha | {db01} | db01 | Halted | 1 disks | - | not replicated",
                $"alpha | {tiny01} | tiny01 | Running | 1 disks | - | not replicated",
                $"alpha | {web01} | web01 | Running | 2 disks | - | not replicated", "Count: 3 VMs"],
            vms.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // A run leaves a replica on beta: listed there as one, and the source VM carries the run's status.
        var created = await XcrAsync("", "job", "create", "inventory", "--pool", "alpha", "--vm", tiny01, "--sr", $"beta:{betaSr}");
        Assert.True(created.Code == 0, created.Stderr);
        var run = await XcrAsync("", "job", "run", created.Stdout.Split('\n')[0]["job ".Length..].Trim(), "--wait");
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        var onBeta = JsonNode.Parse((await XcrAsync("", "vm", "list", "--pool", "beta", "--json")).Stdout)!.AsArray();
        Assert.Equal(4, onBeta.Count); // beta's own three VMs and the replica
        var replica = Assert.Single(onBeta, v => v!["isReplica"]!.GetValue<bool>())!;
        Assert.Equal(["beta", "Halted"], new[] { replica["pool"]!.GetValue<string>(), replica["powerState"]!.GetValue<string>() });
        Assert.Equal(betaSr, replica["disks"]!.AsArray().Single()!["sr"]!.GetValue<string>());
        var all = (await XcrAsync("", "vm", "list")).Stdout;
        Assert.Contains($"alpha | {tiny01} | tiny01 | Running | 1 disks | - | success, last success ", all);
        Assert.Matches($@"beta \| {replica["id"]} \| .+ \| Halted \| 1 disks \| .*Continuous Replication.* \| replica", all);
        Assert.EndsWith("Count: 7 VMs", all.Trim());

        // The query form, and the replication history of one VM beside it.
        using var http = Http();
        var tiny = JsonNode.Parse(await http.GetStringAsync("/api/vms?pool=alpha"))!.AsArray()
            .Single(v => v!["id"]!.GetValue<string>() == tiny01)!;
        Assert.Equal("success", tiny["lastStatus"]!.GetValue<string>());
        Assert.Null(tiny["running"]);
        Assert.Single(JsonNode.Parse(await http.GetStringAsync($"/api/vms/{tiny01}"))!["runs"]!.AsArray());

        var nosuch = await XcrAsync("", "vm", "list", "--pool", "nosuch");
        Assert.Equal(1, nosuch.Code);
        Assert.Contains("no pool", nosuch.Stderr);

        // A registered pool that cannot be read is named, not left out of the list (registering it needs a login: it goes away after).
        await using (var gamma = await SimHost.StartAsync(o => o with { PoolName = "gamma", Password = Password }))
        {
            Assert.Equal(0, (await XcrAsync(Password + "\n", "pool", "add", "gamma", gamma.Url.ToString(), "--password-stdin")).Code);
        }

        var down = await XcrAsync("", "sr", "list");
        Assert.Equal(1, down.Code);
        Assert.StartsWith("xcr: pool gamma: ", down.Stderr);
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, (await http.GetAsync("/api/pools/gamma/vms")).StatusCode);
    }

    [Fact]
    public async Task Run_tail_follows_a_run_to_its_end_and_a_finished_run_ends_at_once()
    {
        await AddPoolsAsync();
        var vm = await Alpha.UuidAsync("VM", "tiny01");
        var sr = await Beta.UuidAsync("SR", "Local storage");
        var created = await XcrAsync("", "job", "create", "tailed", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}");
        var jobId = created.Stdout.Split('\n')[0]["job ".Length..].Trim();
        Alpha.Pool.Faults.ExportBytesPerSecond = 3L << 20; // the disk's blocks take a few seconds: several reports
        var started = await XcrAsync("", "job", "run", jobId);
        Assert.True(started.Code == 0, started.Stderr);
        var runId = started.Stdout.Trim()["run ".Length..];

        var tail = await XcrAsync("", "run", "tail", runId).WaitAsync(TimeSpan.FromMinutes(2));
        Alpha.Pool.Faults.Clear();
        Assert.True(tail.Code == 0, tail.Stdout + tail.Stderr);
        var lines = tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"VM {vm}: success", lines[^1]);
        var progress = lines.Where(l => l.StartsWith("VM tiny01 disk ", StringComparison.Ordinal)).ToList(); // names, not uuids
        Assert.True(progress.Count >= 2, tail.Stdout);
        const string line = @"^VM tiny01 disk tiny01 disk 0 -> SR Local storage: \d+\.\d/\d+\.\d MiB (\d+\.\d|-) MB/s ETA (\d+ s|-)$";
        Assert.All(progress, l => Assert.Matches(line, l));
        Assert.Matches(@": (\d+\.\d)/\1 MiB ", progress[^1]); // the last one reached the total
        Assert.Contains("VM tiny01: snapshot", lines);
        Assert.Contains("VM tiny01 -> SR Local storage: commit", lines);
        Assert.DoesNotContain(sr, tail.Stdout);

        // Once the books have it, a tail of the finished run replies at once from them, as lines or JSON.
        await Poll.UntilAsync(async () => (await XcrAsync("", "run", "show", runId))
            .Stdout.Contains($"VM {vm}: success", StringComparison.Ordinal), "the run in the books", TimeSpan.FromSeconds(30));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var again = await XcrAsync("", "run", "tail", runId).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((0, $"VM {vm}: success"), (again.Code, again.Stdout.Trim()));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{watch.Elapsed} for a finished run");
        var json = (await XcrAsync("", "run", "tail", runId, "--json").WaitAsync(TimeSpan.FromSeconds(30)))
            .Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["vm-end", "end"], json.Select(e => e["event"]!.GetValue<string>()));
        Assert.Equal("success", json[1]["data"]!["vms"]![0]!["status"]!.GetValue<string>());
        Assert.Contains("no run", (await XcrAsync("", "run", "tail", "no-such-run")).Stderr);
    }

    [Fact]
    public async Task Event_streams_need_the_token_and_the_cluster_one_starts_with_the_members()
    {
        using var anonymous = Http(token: null);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/events")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/cluster/events")).StatusCode);

        using var http = Http();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await http.GetAsync("/api/cluster/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        Assert.Equal("event: member", await reader.ReadLineAsync(timeout.Token));
        var member = JsonNode.Parse((await reader.ReadLineAsync(timeout.Token))!["data: ".Length..])!;
        Assert.Equal("Up", member["status"]!.GetValue<string>());
        Assert.Equal(["control", "pool-all"], member["roles"]!.AsArray().Select(r => r!.GetValue<string>()));
    }

    [Theory]
    [InlineData(1, "no job", "job", "run", "no-such-job", "--wait")]
    [InlineData(1, "url:", "pool", "add", "gamma", "ftp://nowhere", "--password-stdin")]
    [InlineData(1, "no password", "pool", "add", "gamma", "https://192.0.2.1")]
    [InlineData(1, "expected an SR uuid or POOL:SR-UUID", "job", "create", "j", "--pool", "alpha", "--vm",
        "00000000-0000-0000-0000-000000000000", "--sr", "nocolon")]
    [InlineData(1, "--max-rate lots", "job", "create", "j", "--pool", "alpha", "--vm", "00000000-0000-0000-0000-000000000000", "--sr",
        "a:b", "--max-rate", "lots")]
    [InlineData(2, "--pool", "job", "create", "j", "--vm", "x", "--sr", "a:b")]
    [InlineData(1, "--timeout 8d: expected a duration such as 2h or 30m, at most 7d", "job", "create", "j", "--pool", "alpha", "--vm",
        "00000000-0000-0000-0000-000000000000", "--sr", "a:b", "--timeout", "8d")]
    [InlineData(1, "--timeout 99999999999h: expected a duration", "job", "create", "j", "--pool", "alpha", "--vm",
        "00000000-0000-0000-0000-000000000000", "--sr", "a:b", "--timeout", "99999999999h")]
    [InlineData(2, "usage: xcr", "frobnicate")]
    public async Task Bad_input_gets_one_clear_line_and_an_exit_code(int code, string message, params string[] args)
    {
        var result = await XcrAsync("pw\n", args);
        Assert.True(code == result.Code, $"exit {result.Code}: {result.Stderr}");
        Assert.Contains(message, result.Stderr);
    }

    [Fact]
    public async Task A_wrong_token_is_refused()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await XcrCommand.RunAsync(["pool", "list", "--node", Url, "--token", "wrong"], output, error, new StringReader(""));
        Assert.Equal(1, code);
        Assert.Contains("bearer token", error.ToString());
    }
}
