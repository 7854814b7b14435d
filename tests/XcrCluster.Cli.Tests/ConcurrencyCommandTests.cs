using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>`concurrency` acts on a real node: with 1, a job's VMs run one after the other in the job's order (each VM's run
/// starts after the previous one's end, as the entities recorded them), the others shown queued meanwhile; a VM's
/// retries (`retries`) happen within its turn.</summary>
public sealed class ConcurrencyCommandTests : RecoveryTest
{
    [Fact]
    public async Task Concurrency_1_runs_a_jobs_vms_one_at_a_time_in_its_order_the_others_queued()
    {
        var (jobId, vms) = await JobOfAsync(["tiny01", "db01", "web01"], "concurrency=1");
        var runId = (await OkAsync("job", "run", jobId)).Split('\n')[0]["run ".Length..].Trim();
        using var http = Http();
        var seenQueued = false;
        await Poll.UntilAsync(async () =>
        {
            var statuses = (await RunVmsAsync(http, runId)).Select(v => v!["status"]!.GetValue<string>()).ToList();
            Assert.True(statuses.Count(s => s == "running") <= 1, string.Join(",", statuses));
            seenQueued |= statuses.Contains("queued");
            return statuses.All(s => s == "success");
        }, "the run's three VMs to succeed", TimeSpan.FromMinutes(5));
        Assert.True(seenQueued, "VMs waiting for their turn are shown queued");
        await AssertOneAfterTheOtherAsync(http, runId, vms);
    }

    [Fact]
    public async Task Concurrency_2_of_3_runs_the_first_two_together_and_the_third_once_one_ended()
    {
        var (jobId, vms) = await JobOfAsync(["tiny01", "db01", "web01"], "concurrency=2");
        Alpha.Pool.Faults.ExportBytesPerSecond = 32 << 20; // each VM's export takes seconds: the first two overlap by far
        var run = await XcrAsync("", "job", "run", jobId, "--wait");
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        using var http = Http();
        var runs = await IntervalsAsync(http, run.Stdout.Split('\n')[0]["run ".Length..].Trim(), vms);
        Assert.True(runs[1].Started < runs[0].Finished && runs[0].Started < runs[1].Finished, "the first two VMs ran at once");
        Assert.True(runs[2].Started >= new[] { runs[0].Finished, runs[1].Finished }.Min(), "the third VM waited for a slot");
    }

    [Fact]
    public async Task A_vm_retried_after_a_failure_keeps_its_turn_and_the_next_vm_waits_for_its_last_attempt()
    {
        var (jobId, vms) = await JobOfAsync(["tiny01", "db01"], "concurrency=1", "retries=1");
        Alpha.Pool.Faults.FailCall("VM.snapshot"); // the first VM's first attempt fails
        var run = await XcrAsync("", "job", "run", jobId, "--wait");
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        var runId = run.Stdout.Split('\n')[0]["run ".Length..].Trim();
        using var http = Http();
        var results = await RunVmsAsync(http, runId);
        Assert.All(results, v => Assert.Equal("success", v!["status"]!.GetValue<string>()));
        Assert.Contains(results[0]!["log"]!.AsArray(), l => l!["name"]!.GetValue<string>() == "Retry the VM backup due to an error");
        await AssertOneAfterTheOtherAsync(http, runId, vms);
    }

    private async Task<(string JobId, string[] Vms)> JobOfAsync(string[] names, params string[] settings)
    {
        await AddPoolsAsync();
        var vms = new string[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            vms[i] = await Alpha.UuidAsync("VM", names[i]);
        }

        var sr = await Beta.UuidAsync("SR", "Local storage");
        var created = await OkAsync(["job", "create", "hourly", "--pool", "alpha", .. vms.SelectMany(v => new[] { "--vm", v }),
            "--sr", $"beta:{sr}"]);
        var jobId = created.Split('\n')[0]["job ".Length..].Trim();
        await OkAsync(["job", "set", jobId, .. settings]);
        return (jobId, vms);
    }

    /// <summary>Each VM's run (as its entity recorded it) started after the previous VM's, in the job's order, had finished.</summary>
    private static async Task AssertOneAfterTheOtherAsync(HttpClient http, string runId, string[] vms)
    {
        var runs = await IntervalsAsync(http, runId, vms);
        for (var i = 1; i < runs.Count; i++)
        {
            Assert.True(runs[i].Started >= runs[i - 1].Finished,
                $"VM {i + 1} started at {runs[i].Started:O}, before VM {i} finished at {runs[i - 1].Finished:O}");
        }
    }

    /// <summary>When each VM's part in the run started and finished, as its entity recorded it.</summary>
    private static async Task<List<(DateTimeOffset Started, DateTimeOffset Finished)>> IntervalsAsync(HttpClient http, string runId,
        string[] vms)
    {
        var runs = new List<(DateTimeOffset Started, DateTimeOffset Finished)>();
        foreach (var vm in vms)
        {
            var record = JsonNode.Parse(await http.GetStringAsync($"/api/vms/{vm}"))!["runs"]!.AsArray()
                .Single(r => r!["id"]!.GetValue<string>() == runId)!;
            runs.Add((record["started"]!.GetValue<DateTimeOffset>(), record["finished"]!.GetValue<DateTimeOffset>()));
        }

        return runs;
    }

    private static async Task<JsonArray> RunVmsAsync(HttpClient http, string runId)
        => JsonNode.Parse(await http.GetStringAsync($"/api/runs/{runId}"))!["vms"]!.AsArray();
}
