using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>`concurrency` acts on a real node: with 1, a job's three VMs run one after the other in the job's order (each
/// VM's run starts after the previous one's end, as the entities recorded them), the others shown queued meanwhile.</summary>
public sealed class ConcurrencyCommandTests : RecoveryTest
{
    [Fact]
    public async Task Concurrency_1_runs_a_jobs_vms_one_at_a_time_in_its_order_the_others_queued()
    {
        await AddPoolsAsync();
        var vms = new[] { await Alpha.UuidAsync("VM", "tiny01"), await Alpha.UuidAsync("VM", "db01"), await Alpha.UuidAsync("VM", "web01") };
        var sr = await Beta.UuidAsync("SR", "Local storage");
        var created = await OkAsync("job", "create", "hourly", "--pool", "alpha", "--vm", vms[0], "--vm", vms[1], "--vm", vms[2],
            "--sr", $"beta:{sr}");
        var jobId = created.Split('\n')[0]["job ".Length..].Trim();
        await OkAsync("job", "set", jobId, "concurrency=1");

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

        var runs = new List<(DateTimeOffset Started, DateTimeOffset Finished)>();
        foreach (var vm in vms)
        {
            var record = JsonNode.Parse(await http.GetStringAsync($"/api/vms/{vm}"))!["runs"]!.AsArray()
                .Single(r => r!["id"]!.GetValue<string>() == runId)!;
            runs.Add((record["started"]!.GetValue<DateTimeOffset>(), record["finished"]!.GetValue<DateTimeOffset>()));
        }

        for (var i = 1; i < runs.Count; i++)
        {
            Assert.True(runs[i].Started >= runs[i - 1].Finished,
                $"VM {i + 1} started at {runs[i].Started:O}, before VM {i} finished at {runs[i - 1].Finished:O}");
        }
    }

    private static async Task<JsonArray> RunVmsAsync(HttpClient http, string runId)
        => JsonNode.Parse(await http.GetStringAsync($"/api/runs/{runId}"))!["vms"]!.AsArray();
}
