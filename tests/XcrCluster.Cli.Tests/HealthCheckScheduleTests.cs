using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>The health check is a schedule's setting (as in Xen Orchestra): set with `xcr job schedule add`, changed with
/// `xcr job schedule set`, and only runs of that schedule check.</summary>
public sealed class HealthCheckScheduleTests : RecoveryTest
{
    [Fact]
    public async Task Only_runs_of_the_schedule_with_a_health_check_SR_check_until_the_schedule_is_changed()
    {
        var (jobId, _, sr) = await JobAsync();
        var added = (await OkAsync("job", "schedule", "add", jobId, "--name", "checked", "--retention", "3", "--health-check-sr", sr,
            "--health-check-tags", "web,db", "--health-check-timeout", "5m")).Trim();
        var checkedSchedule = added["schedule ".Length..];
        var shown = JsonNode.Parse(await OkAsync("job", "show", jobId))!["schedules"]!.AsArray()
            .Single(s => s!["id"]!.GetValue<string>() == checkedSchedule)!;
        Assert.Equal((sr, "00:05:00"), (shown["healthCheckSr"]?.GetValue<string>(), shown["healthCheckTimeout"]?.GetValue<string>()));

        // The VM has none of the schedule's tags: XO's words, no check; the job's first schedule has no health check at all.
        var run = await RunAsync(jobId, checkedSchedule);
        Assert.Equal("info: This VM doesn't match the health check's tags for this schedule", HealthCheck(run));
        Assert.Null(HealthCheck(await RunAsync(jobId, null)));

        await OkAsync("job", "schedule", "set", jobId, checkedSchedule, "healthCheckVmsWithTags=");
        Assert.StartsWith($"success: the clone on SR {sr} started", HealthCheck(await RunAsync(jobId, checkedSchedule)));
        Assert.Null(HealthCheck(await RunAsync(jobId, null)));

        var refused = await XcrAsync("", "job", "schedule", "set", jobId, checkedSchedule, "healthCheckTimeout=2d");
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("healthCheckTimeout must be positive and at most 1 day", refused.Stderr);
        await OkAsync("job", "schedule", "set", jobId, checkedSchedule, "healthCheckSr=none");
        Assert.Null(HealthCheck(await RunAsync(jobId, checkedSchedule)));
    }

    private async Task<JsonNode> RunAsync(string jobId, string? schedule)
    {
        // The pools' SR garbage collectors between runs, as on a real pool (else the chains grow past the tolerance).
        Alpha.Pool.Collector.RunOnce();
        Beta.Pool.Collector.RunOnce();
        List<string> args = ["job", "run", jobId, "--wait"];
        if (schedule is not null)
        {
            args.AddRange(["--schedule", schedule]);
        }

        var run = await XcrAsync("", [.. args]);
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        var runId = run.Stdout.Split('\n')[0]["run ".Length..].Trim();
        using var http = Http();
        var vm = JsonNode.Parse(await http.GetStringAsync($"/api/jobs/{jobId}/runs/{runId}"))!["vms"]![0]!;
        Assert.True(vm["status"]!.GetValue<string>() == "success", vm.ToJsonString());
        return vm;
    }

    /// <summary>The run's health-check line as "status: message", or null when there is none.</summary>
    private static string? HealthCheck(JsonNode run)
        => run["log"]!.AsArray().SingleOrDefault(l => l!["name"]!.GetValue<string>() == "health check") is { } line
            ? $"{line["status"]!.GetValue<string>()}: {line["message"]?.GetValue<string>()}"
            : null;
}
