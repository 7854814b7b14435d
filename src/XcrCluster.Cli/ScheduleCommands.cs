using System.CommandLine;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>`xcr job schedule add|remove|enable|disable`: a job's schedules, each with its own cron, time zone and
/// overrides of copyRetention and fullInterval (as in Xen Orchestra), or "force full".</summary>
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
        var add = cli.Api("add", "add a schedule to a job (prints its id)", async (r, client) => await cli.Print(r,
            await client.PostAsync($"/api/jobs/{CliContext.Segment(r.GetValue(jobId))}/schedules", new
            {
                cron = r.GetValue(cron), timeZone = r.GetValue(timeZone), name = r.GetValue(name), copyRetention = r.GetValue(retention), fullInterval = r.GetValue(fullInterval),
                forceFull = r.GetValue(forceFull), enabled = !r.GetValue(disabled),
            }), d => [$"schedule {d["id"]}"]), jobId, cron, timeZone, name, retention, fullInterval, forceFull, disabled);
        var scheduleId = new Argument<string>("schedule-id");
        var remove = cli.Api("remove", "remove a schedule (a job keeps at least one)", async (r, client) => await cli.Print(r,
            await client.DeleteAsync($"/api/jobs/{CliContext.Segment(r.GetValue(jobId))}/schedules/{CliContext.Segment(r.GetValue(scheduleId))}"),
            d => [$"schedule {d["id"]} removed"]), jobId, scheduleId);
        Command Switch(string verb) => cli.Api(verb, $"{verb} one schedule", async (r, client) => await cli.Print(r,
            await client.PostAsync($"/api/jobs/{CliContext.Segment(r.GetValue(jobId))}/schedules/{CliContext.Segment(r.GetValue(scheduleId))}/{verb}", new { }),
            d => [$"schedule {d["id"]} {verb}d"]), jobId, scheduleId);
        return new Command("schedule", "a job's schedules") { add, remove, Switch("enable"), Switch("disable") };
    }

    /// <summary>One line's worth of a job's schedules: "*/15 * * * * Europe/Paris, manual (disabled)".</summary>
    public static string Summary(JsonArray schedules) => string.Join(", ", schedules.Select(s => s!["cron"]?.GetValue<string>() is { } c
        ? $"{c} {s["timeZone"]}{(s["enabled"]!.GetValue<bool>() ? "" : " (disabled)")}{(s["forceFull"]!.GetValue<bool>() ? " full" : "")}"
        : "manual"));
}
