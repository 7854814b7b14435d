using System.Globalization;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace XcrCluster.Failover.Tests;

/// <summary>Every node restarted in turn (SIGTERM, then started again on its data directory, as a rolling upgrade does),
/// each just before a minute's occurrence of a schedule that fires every minute: each occurrence runs exactly once for
/// each VM, none lost while the scheduler, the control plane, the entities or an agent were between nodes, none twice.
/// </summary>
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

        // The simulator's coalescing is off in tests (runs by hand call it; scheduled ones cannot): without this, the
        // base copies each scheduled snapshot leaves would have the VM-chain check skip the later occurrences.
        using (var patched = await cluster["B"].Http.PatchAsJsonAsync($"/api/jobs/{job.Id}", new { maxUncoalescedVdis = 99 }))
        {
            Assert.True(patched.IsSuccessStatusCode, await patched.Content.ReadAsStringAsync());
        }

        var since = DateTimeOffset.UtcNow;
        DateTimeOffset? last = null;
        foreach (var name in new[] { "C", "B", "A" })
        {
            // Each node goes down just before a minute's occurrence (one node per minute), so it comes due while the node is
            // away or joining (for A, while the scheduler, the control plane and alpha's agent hand over).
            await Poll.UntilAsync(() => (last is null || Minute(DateTimeOffset.UtcNow) > last) && DateTimeOffset.UtcNow.Second >= 52,
                "the end of the next minute", TimeSpan.FromSeconds(130));
            last = Minute(DateTimeOffset.UtcNow);
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

        // No other run in that time (a later minute's, on a slow machine, may have started since: not counted).
        Assert.Equal(occurrences.Select(Trigger).Order(), byTrigger.Keys.Where(k => string.CompareOrdinal(k, Trigger(until)) <= 0).Order());
        var expected = occurrences.Select(o => byTrigger[Trigger(o)][0]).ToList();
        foreach (var vm in job.Vms)
        {
            var recorded = (await cluster.VmRunsAsync(vm)).Select(r => r!["id"]!.GetValue<string>()).Skip(1).ToList();
            Assert.Equal(expected, recorded.Take(expected.Count));
            Assert.Equal(recorded.Count, recorded.Distinct().Count());
        }

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
