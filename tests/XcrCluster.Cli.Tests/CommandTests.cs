using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr` against a real xcr-node process and two simulated pools: pools, a job, a run with --wait, the
/// run's task tree, the cluster in pbm's format, and the errors an operator gets.</summary>
public sealed class CommandTests : IAsyncLifetime
{
    private const string Password = "cli-Pa55-9b3e";
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "xcr-cli-" + Guid.NewGuid().ToString("N")[..10]);
    private SimHost alpha = null!;
    private SimHost beta = null!;
    private ProgramProcess node = null!;
    private string url = "";
    private string token = "";

    public async Task InitializeAsync()
    {
        alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha", Password = Password });
        beta = await SimHost.StartAsync(o => o with { PoolName = "beta", Password = Password });
        Uri uri;
        (node, uri) = await ProgramProcess.StartAsync(ProgramProcess.Node, "--data", dataDir);
        url = uri.ToString();
        token = File.ReadAllText(Path.Combine(dataDir, "token")).Trim();
    }

    public async Task DisposeAsync()
    {
        node.Dispose();
        await alpha.DisposeAsync();
        await beta.DisposeAsync();
        SimHost.DeleteDataDir(dataDir);
    }

    [Fact]
    public async Task Pools_a_job_and_a_run_with_wait_then_its_task_tree_and_the_cluster()
    {
        Assert.Equal(0, (await XcrAsync(Password + "\n", "pool", "add", "alpha", alpha.Url.ToString(), "--password-stdin")).Code);
        Assert.Equal(0, (await XcrAsync(Password + "\n", "pool", "add", "beta", beta.Url.ToString(), "--password-stdin")).Code);
        var pools = await XcrAsync("", "pool", "list", "--json");
        Assert.Equal(["alpha", "beta"], JsonNode.Parse(pools.Stdout)!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
        Assert.DoesNotContain(Password, pools.Stdout);

        var vm = await alpha.UuidAsync("VM", "tiny01");
        var created = await XcrAsync("", "job", "create", "nightly", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{await beta.UuidAsync("SR", "Local storage")}", "--retention", "2", "--max-rate", "100MiB");
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
        Assert.Equal("Count: 1 nodes", members[^1]);
        Assert.Equal("replicated-vm", (await XcrAsync("", "sharding", "regions")).Stdout.Trim());
        var shards = await XcrAsync("", "sharding", "region-stats", "replicated-vm");
        Assert.Matches(@"shard \d+ \| 1 entities", shards.Stdout);
        Assert.Contains("no member", (await XcrAsync("", "cluster", "down", "akka.tcp://xcr@127.0.0.1:1")).Stderr);
        Assert.Equal("Count: 0 downed", (await XcrAsync("", "cluster", "down-unreachable")).Stdout.Trim());

        // The API describes itself (behind the token too).
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var openApi = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;
        Assert.NotNull(openApi["paths"]!["/api/jobs/{id}/run"]);
        AssertNoPassword(node.Stderr);
    }

    [Fact]
    public async Task A_job_with_a_schedule_due_in_seconds_runs_by_itself()
    {
        Assert.Equal(0, (await XcrAsync(Password + "\n", "pool", "add", "alpha", alpha.Url.ToString(), "--password-stdin")).Code);
        Assert.Equal(0, (await XcrAsync(Password + "\n", "pool", "add", "beta", beta.Url.ToString(), "--password-stdin")).Code);
        var vm = await alpha.UuidAsync("VM", "tiny01");
        var created = await XcrAsync("", "job", "create", "every-5s", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{await beta.UuidAsync("SR", "Local storage")}",
            "--cron", "*/5 * * * * *", "--timezone", "Europe/Paris");
        Assert.True(created.Code == 0, created.Stderr);

        // Due within 5 s; the scheduler looks every second and the run is started within 10 s of its due time.
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
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

        var bad = await XcrAsync("", "job", "create", "never", "--pool", "alpha", "--vm", vm, "--sr", "beta:x", "--cron", "61 * * * *");
        Assert.Equal(1, bad.Code);
        Assert.Contains("schedule: cron", bad.Stderr);
    }

    [Fact]
    public async Task Run_tail_follows_a_run_to_its_end_and_a_finished_run_ends_at_once()
    {
        Assert.Equal(0, (await XcrAsync(Password + "\n", "pool", "add", "alpha", alpha.Url.ToString(), "--password-stdin")).Code);
        Assert.Equal(0, (await XcrAsync(Password + "\n", "pool", "add", "beta", beta.Url.ToString(), "--password-stdin")).Code);
        var vm = await alpha.UuidAsync("VM", "tiny01");
        var sr = await beta.UuidAsync("SR", "Local storage");
        var created = await XcrAsync("", "job", "create", "tailed", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}");
        var jobId = created.Stdout.Split('\n')[0]["job ".Length..].Trim();
        alpha.Pool.Faults.ExportBytesPerSecond = 3L << 20; // the disk's blocks take a few seconds: several reports
        var started = await XcrAsync("", "job", "run", jobId);
        Assert.True(started.Code == 0, started.Stderr);
        var runId = started.Stdout.Trim()["run ".Length..];

        var tail = await XcrAsync("", "run", "tail", runId).WaitAsync(TimeSpan.FromMinutes(2));
        alpha.Pool.Faults.Clear();
        Assert.True(tail.Code == 0, tail.Stdout + tail.Stderr);
        var lines = tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"VM {vm}: success", lines[^1]);
        var progress = lines.Where(l => l.StartsWith($"VM {vm} disk ", StringComparison.Ordinal)).ToList();
        Assert.True(progress.Count >= 2, tail.Stdout);
        Assert.All(progress, l => Assert.Matches($@"^VM {vm} disk .+ -> SR {sr}: \d+\.\d/\d+\.\d MiB (\d+\.\d|-) MB/s ETA (\d+ s|-)$", l));
        Assert.Matches(@": (\d+\.\d)/\1 MiB ", progress[^1]); // the last one reached the total
        Assert.Contains($"VM {vm}: snapshot", lines);
        Assert.Contains($"VM {vm} -> SR {sr}: commit", lines);

        // Once the books have it, a tail of the finished run replies at once from them, as lines or JSON.
        await Poll.UntilAsync(async () => (await XcrAsync("", "run", "show", runId)).Stdout.Contains($"VM {vm}: success", StringComparison.Ordinal), "the run in the books", TimeSpan.FromSeconds(30));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var again = await XcrAsync("", "run", "tail", runId).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((0, $"VM {vm}: success"), (again.Code, again.Stdout.Trim()));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{watch.Elapsed} for a finished run");
        var json = (await XcrAsync("", "run", "tail", runId, "--json").WaitAsync(TimeSpan.FromSeconds(30))).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["vm-end", "end"], json.Select(e => e["event"]!.GetValue<string>()));
        Assert.Equal("success", json[1]["data"]!["vms"]![0]!["status"]!.GetValue<string>());
        Assert.Contains("no run", (await XcrAsync("", "run", "tail", "no-such-run")).Stderr);
    }

    [Fact]
    public async Task Event_streams_need_the_token_and_the_cluster_one_starts_with_the_members()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/events")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/cluster/events")).StatusCode);

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
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
    [InlineData(1, "expected POOL:SR-UUID", "job", "create", "j", "--pool", "alpha", "--vm", "00000000-0000-0000-0000-000000000000", "--sr", "nocolon")]
    [InlineData(1, "--max-rate lots", "job", "create", "j", "--pool", "alpha", "--vm", "00000000-0000-0000-0000-000000000000", "--sr", "a:b", "--max-rate", "lots")]
    [InlineData(2, "--pool", "job", "create", "j", "--vm", "x", "--sr", "a:b")]
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
        var code = await XcrCommand.RunAsync(["pool", "list", "--node", url, "--token", "wrong"], output, error, new StringReader(""));
        Assert.Equal(1, code);
        Assert.Contains("bearer token", error.ToString());
    }

    private async Task<(int Code, string Stdout, string Stderr)> XcrAsync(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await XcrCommand.RunAsync([.. args, "--node", url, "--token", token], output, error, new StringReader(stdin));
        AssertNoPassword(output.ToString() + error);
        return (code, output.ToString(), error.ToString());
    }

    private static void AssertNoPassword(string text) => Assert.DoesNotContain(Password, text);
}
