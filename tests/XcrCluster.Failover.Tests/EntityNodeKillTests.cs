using System.Net.Http.Json;
using Xunit.Abstractions;

namespace XcrCluster.Failover.Tests;

/// <summary>kill -9 of the control node hosting a VM's entity (and, being the oldest, the scheduler and control plane
/// singletons) while a schedule of its job comes due.</summary>
public sealed class EntityNodeKillTests(ITestOutputHelper output) : FailoverTest(output)
{
    [Fact]
    public async Task The_entity_recovers_on_the_other_control_node_with_its_chains_and_the_missed_schedule_fires_once()
    {
        var (cluster, job, blocked) = await StartWithFullRunAsync();
        await using var stop = cluster;
        WriteGuests(job, 9);

        // The schedule comes due 10 s from now, once a day: A's scheduler must not see it, the survivors' must fire it.
        var due = DateTimeOffset.UtcNow.AddSeconds(10);
        due = due.AddTicks(-(due.Ticks % TimeSpan.TicksPerSecond));
        using (var patched = await cluster["B"].Http.PatchAsJsonAsync($"/api/jobs/{job.Id}/schedules/{job.ScheduleId}",
            new { cron = $"{due.Second} {due.Minute} {due.Hour} * * *" }))
        {
            var text = await patched.Content.ReadAsStringAsync();
            Assert.True(patched.IsSuccessStatusCode, $"PATCH schedule: {(int)patched.StatusCode} {text}");
        }

        await cluster.KillAsync("A");
        Assert.True(DateTimeOffset.UtcNow < due, "A was killed after the schedule came due: the test proves nothing");
        Log($"A killed, the schedule is due at {due:HH:mm:ss}");

        // The scheduler singleton starts on B once A is removed (ThreeNodeCluster.FailoverLimit) and fires the missed
        // occurrence: one run, a delta for both VMs, the one whose entity was on A included (its chains recovered from
        // PostgreSQL).
        string? scheduled = null;
        await Poll.UntilAsync(ThreeNodeCluster.Meanwhile(async () =>
        {
            var runs = (await cluster.Any().GetAsync($"/api/runs?job={job.Id}")).AsArray();
            scheduled = runs.Select(r => r!["id"]!.GetValue<string>()).Distinct().Count() > 1 ? runs[0]!["id"]!.GetValue<string>() : null;
            return scheduled is not null;
        }), "the missed schedule's run", ThreeNodeCluster.FailoverLimit);
        var run = await cluster.Any().GetAsync($"/api/jobs/{job.Id}/runs/{scheduled}");
        Assert.Equal($"schedule {due:yyyy-MM-dd HH:mm:ss}Z", run["trigger"]!.GetValue<string>());
        await AssertExactAsync(await AwaitRunAsync(cluster, job, scheduled!), full: false, "the missed schedule's run");
        Log("the missed schedule's run done");
        Assert.Equal("B", await cluster.EntityNodeAsync(job.EntityOnA));

        // A run by hand afterwards: the occurrence did not fire again meanwhile, nor does it now (one run per VM each).
        WriteGuests(job, 10);
        var manual = await RunAsync(cluster["B"], job);
        await AssertExactAsync(await AwaitRunAsync(cluster, job, manual), full: false, "the run by hand after the kill");
        Log("a run by hand after it done");
        await AssertRunsAfterFirstAsync(cluster, job, scheduled!, manual);
        await AssertPoolsCleanAsync(job, blocked, "after the kill");
    }
}
