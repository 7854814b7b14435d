using System.Text.Json.Nodes;
using XcrCluster.Domain;

namespace XcrCluster.Cli.Tests;

/// <summary>The pools stay the truth: a restore point deleted by hand, one made by Xen Orchestra and a replica deleted,
/// all behind the product's back, are found at the next run's start, told in its log, and the replica listing follows.</summary>
public sealed class ReplicaReconciliationTests : NodeAndPools
{
    private const StringComparison Ordinal = StringComparison.Ordinal;

    [Fact]
    public async Task Changes_made_on_the_target_pool_behind_xcr_s_back_show_in_the_next_run_s_log_and_the_listing()
    {
        await AddPoolsAsync();
        var (vm, sr) = (await Alpha.UuidAsync("VM", "tiny01"), await Beta.UuidAsync("SR", "Local storage"));
        var created = await OkAsync("job", "create", "hourly", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}");
        var jobId = created.Split('\n')[0]["job ".Length..].Trim();
        await OkAsync("job", "set", jobId, "copyRetention=3");
        await RunAsync(jobId);
        await RunAsync(jobId);
        var before = Assert.Single(await ReplicasAsync())!;
        var (oldest, newest) = (Strings(before["restorePoints"])[0], Strings(before["restorePoints"])[1]);
        var replica = Assert.Single(Strings(before["replicas"]));

        // Behind xcr's back on beta: Xen Orchestra snapshots the replica into a restore point of its own job (its metadata keys,
        // docs/xen-orchestra.md §10), someone deletes the oldest restore point, then the replica itself.
        using var rpc = Beta.Json();
        await rpc.LoginAsync("root", Password);
        var replicaRef = (string)(await rpc.CallAsync("VM.get_by_uuid", replica))!;
        var xoRef = (string)(await rpc.CallAsync("VM.snapshot", replicaRef, "tiny01 - XO job / XO schedule 20260101T000000Z"))!;
        foreach (var (key, value) in new Dictionary<string, string>
        {
            [XoMetadata.Job] = "xo-job", [XoMetadata.Schedule] = "xo-schedule", [XoMetadata.Vm] = vm, [XoMetadata.Sr] = sr,
            [XoMetadata.Datetime] = XoMetadata.FormatDateTime(DateTimeOffset.UtcNow), [XoMetadata.CopyOf] = Guid.NewGuid().ToString(),
        })
        {
            await rpc.CallAsync("VM.remove_from_other_config", xoRef, key);
            await rpc.CallAsync("VM.add_to_other_config", xoRef, key, value);
        }

        var xoPoint = (string)(await rpc.CallAsync("VM.get_uuid", xoRef))!;
        await rpc.CallAsync("VM.destroy", (string)(await rpc.CallAsync("VM.get_by_uuid", oldest))!);
        await rpc.CallAsync("VM.destroy", replicaRef);

        // The next run finds each change, says so in its log, and goes on: a new replica from the last restore point.
        var (runId, run) = await RunAsync(jobId);
        var warnings = run["vms"]![0]!["log"]!.AsArray().Where(l => l!["status"]!.GetValue<string>() == "warning")
            .Select(l => l!["message"]!.GetValue<string>()).ToList();
        Assert.Contains(warnings, w => w.Contains(oldest, Ordinal) && w.Contains("deleted outside xcr", Ordinal));
        Assert.Contains(warnings, w => w.Contains(xoPoint, Ordinal) && w.Contains("not made by xcr", Ordinal));
        Assert.Contains(warnings, w => w.Contains(replica, Ordinal) && w.Contains("is gone", Ordinal));
        Assert.Contains("reconcile with the pool", await OkAsync("run", "show", runId));

        var after = Assert.Single(await ReplicasAsync())!;
        var points = Strings(after["restorePoints"]);
        Assert.DoesNotContain(oldest, points);
        Assert.Contains(newest, points);
        Assert.Contains(xoPoint, points);
        Assert.Equal(3, points.Count); // newest, Xen Orchestra's, and the new run's
        var newReplica = Strings(after["replicas"]).Single(r => r != replica);
        Assert.DoesNotContain(replica, Strings(after["replicas"]));
        var onBeta = (await Beta.AllRecordsAsync("VM")).Select(r => (string)r["uuid"]!).ToHashSet();
        Assert.All(points, p => Assert.Contains(p, onBeta));
        Assert.Contains(newReplica, onBeta);

        var chains = after["chains"]!.AsArray();
        var ours = chains.Single(c => c!["jobId"]!.GetValue<string>() == jobId)!;
        Assert.Equal(newReplica, ours["replica"]!.GetValue<string>());
        Assert.Equal(2, ours["restorePoints"]!.AsArray().Count);
        Assert.Equal("xo-schedule", chains.Single(c => c!["jobId"]!.GetValue<string>() == "xo-job")!["scheduleId"]!.GetValue<string>());

        var listed = await OkAsync("replica", "list");
        Assert.Contains(xoPoint, listed);
        Assert.DoesNotContain(oldest, listed);
    }

    private async Task<(string RunId, JsonNode Run)> RunAsync(string jobId)
    {
        var run = await XcrAsync("", "job", "run", jobId, "--wait");
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        var runId = run.Stdout.Split('\n')[0]["run ".Length..].Trim();
        using var http = Http();
        return (runId, JsonNode.Parse(await http.GetStringAsync($"/api/jobs/{jobId}/runs/{runId}"))!);
    }

    private async Task<JsonArray> ReplicasAsync() => JsonNode.Parse(await OkAsync("replica", "list", "--json"))!.AsArray();

    private static List<string> Strings(JsonNode? array) => [.. array!.AsArray().Select(n => n!.GetValue<string>())];
}
