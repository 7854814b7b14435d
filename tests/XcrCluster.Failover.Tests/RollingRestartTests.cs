using System.Globalization;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace XcrCluster.Failover.Tests;

/// <summary>Every node restarted in turn (SIGTERM, then started again on its data directory, as a rolling upgrade does)
/// while a schedule fires every minute: each minute's occurrence runs exactly once for each VM, none lost while the
/// scheduler, the control plane, the entities or an agent were between nodes, none twice.</summary>
public sealed class RollingRestartTests(ITestOutputHelper output) : FailoverTest(output)
{
    [Fact]
    public async Task A_rolling_restart_of_every_node_under_a_minutely_schedule_loses_and_repeats_no_run()
    {
        var (cluster, job, blocked) = await StartWithFullRunAsync();
        await using var stop = cluster;
        var first = (await cluster.VmRunsAsync(job.Vms[0]))[0]!["id"]!.GetValue<string>();
        using (var patched = await cluster["B"].Http.PatchAsJsonAsync($"/api/jobs/{job.Id}/schedules/{job.ScheduleId}",
            new { cron = "0 * * * * *" }))
        {
            Assert.True(patched.IsSuccessStatusCode, await patched.Content.ReadAsStringAsync());
        }

        var since = DateTimeOffset.UtcNow;
        foreach (var name in new[] { "C", "B", "A" })
        {
            await cluster.StopAsync(name);
            await cluster.StartNodeAsync(name);
            await cluster.AwaitUpAsync(3, ThreeNodeCluster.FailoverLimit);
            Log($"{name} restarted");
        }

        // Then the next minute's occurrence, once every node is back, on a cluster that went through it all.
        var until = Minute(DateTimeOffset.UtcNow).AddMinutes(1);
        var occurrences = Enumerable.Range(1, (int)(until - Minute(since)).TotalMinutes).Select(m => Minute(since).AddMinutes(m)).ToList();
        Dictionary<string, List<string>> byTrigger = [];
        await Poll.UntilAsync(ThreeNodeCluster.Meanwhile(async () =>
        {
            byTrigger = await RunsByTriggerAsync(cluster, job, first);
            return byTrigger.ContainsKey(Trigger(until)) && await EndedAsync(cluster, job, byTrigger[Trigger(until)]);
        }), "the occurrence after the last restart to run", TimeSpan.FromMinutes(3));
        Log($"occurrences {string.Join(", ", occurrences.Select(o => o.ToString("HH:mm", CultureInfo.InvariantCulture)))}");

        foreach (var occurrence in occurrences)
        {
            Assert.True(byTrigger.TryGetValue(Trigger(occurrence), out var runs), $"no run for {Trigger(occurrence)}: "
                + string.Join(", ", byTrigger.Keys));
            Assert.Single(runs);
        }

        Assert.Equal(occurrences.Select(Trigger).Order(), byTrigger.Keys.Order());
        await AssertRunsAfterFirstAsync(cluster, job, [.. occurrences.Select(o => byTrigger[Trigger(o)][0])]);
        await AssertExactAsync(await AwaitRunAsync(cluster, job, byTrigger[Trigger(until)][0]), full: false, "after the restarts");
        await AssertPoolsCleanAsync(job, blocked, "after the rolling restart");
    }

    private static DateTimeOffset Minute(DateTimeOffset t) => new(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero);

    private static string Trigger(DateTimeOffset occurrence) => $"schedule {occurrence:yyyy-MM-dd HH:mm:ss}Z";

    /// <summary>The job's runs after the first, by trigger: each minute's occurrence should have one.</summary>
    private static async Task<Dictionary<string, List<string>>> RunsByTriggerAsync(ThreeNodeCluster cluster, JobDefinition job,
        string first)
    {
        var ids = (await cluster.Any().GetAsync($"/api/runs?job={job.Id}")).AsArray()
            .Select(r => r!["id"]!.GetValue<string>()).Where(id => id != first).Distinct().ToList();
        var result = new Dictionary<string, List<string>>();
        foreach (var id in ids)
        {
            var trigger = (await cluster.Any().GetAsync($"/api/jobs/{job.Id}/runs/{id}"))["trigger"]!.GetValue<string>();
            result.TryAdd(trigger, []);
            result[trigger].Add(id);
        }

        return result;
    }

    private static async Task<bool> EndedAsync(ThreeNodeCluster cluster, JobDefinition job, List<string> runs)
    {
        var vms = (await cluster.Any().GetAsync($"/api/jobs/{job.Id}/runs/{runs[0]}"))["vms"]!.AsArray();
        return vms.Count == job.Vms.Length && vms.All(v => v!["status"]!.GetValue<string>() is not ("running" or "queued"));
    }
}
