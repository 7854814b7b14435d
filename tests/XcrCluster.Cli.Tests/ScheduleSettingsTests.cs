using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>A schedule's own settings act on the runs of that schedule (issue 15: every setting has a test that fails if it is
/// ignored): --force-full makes every run of it a full, --retention keeps that many of its restore points, and the job's
/// first schedule goes on with the job's settings.</summary>
public sealed class ScheduleSettingsTests : RecoveryTest
{
    [Fact]
    public async Task A_schedules_force_full_and_retention_act_on_its_runs_only()
    {
        var (jobId, _, _) = await JobAsync("tiny01");
        var added = (await OkAsync("job", "schedule", "add", jobId, "--cron", "0 3 * * *", "--retention", "2", "--force-full")).Trim();
        var weekly = added["schedule ".Length..];

        var runs = new List<JsonNode>();
        for (var i = 0; i < 3; i++)
        {
            runs.Add(await RunAsync(jobId, "--schedule", weekly));
            Alpha.Pool.Collector.RunOnce(); // coalesces what the removed snapshots left, as the SR does between runs
        }

        Assert.All(runs, r => Assert.True(r["status"]!.GetValue<string>() == "success" && r["full"]!.GetValue<bool>(), r.ToJsonString()));
        var points = (await Beta.AllRecordsAsync("VM")).Where(r => r["is_a_snapshot"] is true
            && Map(r, "other_config").GetValueOrDefault(Domain.XoMetadata.Schedule) as string == weekly).ToList();
        Assert.Equal(2, points.Count);

        // The first schedule keeps the job's settings: its second run is a delta.
        Assert.Equal("success", (await RunAsync(jobId))["status"]!.GetValue<string>());
        Alpha.Pool.Collector.RunOnce();
        await AssertDeltaEqualToSourceAsync(await RunAsync(jobId));
    }
}
