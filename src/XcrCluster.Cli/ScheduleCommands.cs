using System.CommandLine;
using System.Text.Json.Nodes;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;

namespace XcrCluster.Cli;

/// <summary>`xcr job schedule add|remove|set|enable|disable`: a job's schedules, each with its own cron, time zone and
/// overrides of copyRetention, fullInterval and the health check (as in Xen Orchestra), or "force full".</summary>
public static class ScheduleCommands
{
    public static Command Build(CliContext cli, Argument<string> jobId)
    {
        var cron = new Option<string?>("--cron") { Description = "5-field cron, or 6 with seconds; without it the schedule runs by hand only" };
        var timeZone = new Option<string>("--timezone") { DefaultValueFactory = _ => "UTC" };
        var name = new Option<string?>("--name");
        var retention = new Option<int?>("--retention") { Description = "restore points kept by this schedule (default: the job's)" };
        var fullInterval = new Option<int?>("--full-interval");
        var forceFull = new Option<bool>("--force-full") { Description = "every run of this schedule is a full" };
        var disabled = new Option<bool>("--disabled");
        var checkSr = new Option<string?>("--health-check-sr") { Description =
            "each new restore point is started on this SR (uuid) and destroyed once its guest answers; none = no check in this schedule" };
        var checkTags = new Option<string?>("--health-check-tags") { Description =
            "only VMs with one of these tags (comma-separated) are health-checked (default: every VM)" };
        var checkTimeout =
            new Option<string?>("--health-check-timeout") { Description = "how long the guest may take to answer (default 10m)" };
        var rpo = RpoCommands.Option();
        var add = cli.Api("add", "add a schedule to a job (prints its id)", async (r, client) => await cli.Print(r,
            await client.PostAsync($"/api/jobs/{CliContext.Segment(r.GetValue(jobId))}/schedules", new
            {
                cron = r.GetValue(cron), timeZone = r.GetValue(timeZone), name = r.GetValue(name), copyRetention = r.GetValue(retention), fullInterval = r.GetValue(fullInterval),
                forceFull = r.GetValue(forceFull), enabled = !r.GetValue(disabled), healthCheckSr = r.GetValue(checkSr),
                healthCheckVmsWithTags = ScheduleChanges.Tags(r.GetValue(checkTags)),
                healthCheckTimeout = Timeout(r.GetValue(checkTimeout)), rpo = RpoCommands.Parse(r.GetValue(rpo)),
            }), d => [$"schedule {d["id"]}"]), jobId, cron, timeZone, name, retention, fullInterval, forceFull, disabled, checkSr,
            checkTags, checkTimeout, rpo);
        var scheduleId = new Argument<string>("schedule-id");
        var remove = cli.Api("remove", "remove a schedule (a job keeps at least one)", async (r, client) => await cli.Print(r,
            await client.DeleteAsync($"/api/jobs/{CliContext.Segment(r.GetValue(jobId))}/schedules/{CliContext.Segment(r.GetValue(scheduleId))}"),
            d => [$"schedule {d["id"]} removed"]), jobId, scheduleId);
        Command Switch(string verb) => cli.Api(verb, $"{verb} one schedule", async (r, client) => await cli.Print(r,
            await client.PostAsync($"/api/jobs/{CliContext.Segment(r.GetValue(jobId))}/schedules/{CliContext.Segment(r.GetValue(scheduleId))}/{verb}", new { }),
            d => [$"schedule {d["id"]} {verb}d"]), jobId, scheduleId);
        var changes = new Argument<string[]>("setting=value") { Description = $"one or more of: {string.Join(", ", ScheduleChanges.Names)}"
            + " (an empty value gives the setting back to the job)", Arity = ArgumentArity.ZeroOrMore };
        var set = cli.Api("set", "change a schedule's settings", async (r, client) =>
        {
            var body = r.GetValue(changes)!.Select(c => c.Split('=', 2) is [{ Length: > 0 } setting, var value] ? (setting, value)
                : throw new CliException($"{c}: expected setting=value"))
                .ToDictionary(c => c.setting, c => c.value);
            if (r.GetValue(rpo) is { } target)
            {
                body["rpo"] = target;
            }

            return await cli.Print(r, await client.PatchAsync(
                $"/api/jobs/{CliContext.Segment(r.GetValue(jobId))}/schedules/{CliContext.Segment(r.GetValue(scheduleId))}", body),
                d => [$"schedule {d["id"]} changed"]);
        }, jobId, scheduleId, changes, rpo);
        return new Command("schedule", "a job's schedules") { add, remove, set, Switch("enable"), Switch("disable") };
    }

    private static TimeSpan? Timeout(string? text) => text is null ? null
        : Units.ParseDuration(text) ?? throw new CliException($"--health-check-timeout {text}: expected {Units.DurationHint}");

    /// <summary>One line's worth of a job's schedules: "*/15 * * * * Europe/Paris, rpo 00:00:30, manual (disabled)".</summary>
    public static string Summary(JsonArray schedules) => string.Join(", ", schedules.Select(s =>
    {
        var rpo = s!["rpo"]?.GetValue<string>() is { } r ? $"rpo {r}" : null;
        var when = s["cron"]?.GetValue<string>() is { } c ? $"{c} {s["timeZone"]}{(rpo is null ? "" : " + " + rpo)}" : rpo ?? "manual";
        var by = s["cron"] is not null || rpo is not null;
        return $"{when}{(by && !s["enabled"]!.GetValue<bool>() ? " (disabled)" : "")}{(s["forceFull"]!.GetValue<bool>() ? " full" : "")}";
    }));
}
