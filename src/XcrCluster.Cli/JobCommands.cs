using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;

namespace XcrCluster.Cli;

/// <summary>`xcr job` and `xcr rpo`: define, list, run and switch jobs; lag per VM.</summary>
public static class JobCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        // job create|show|run
        var jobName = new Argument<string>("name");
        var sourcePool = new Option<string>("--pool") { Description = "the source pool", Required = true };
        var vms = new Option<string[]>("--vm") { Description = "a VM uuid (repeat for more)", AllowMultipleArgumentsPerToken = true };
        var smart = new Option<string?>("--smart") { Description =
            "VMs chosen at each run: pool=POOL[,tag=T...][,power=Running][,exclude=T...] (replicas and xo:no-bak VMs never)" };
        var srs = new Option<string[]>("--sr") { Description = "a target SR: its uuid, or POOL:SR-UUID (repeat for more)", Required = true,
            AllowMultipleArgumentsPerToken = true };
        var retention = new Option<int>("--retention") { DefaultValueFactory = _ => 1 };
        var fullInterval = new Option<int>("--full-interval");
        var concurrency = new Option<int>("--concurrency") { DefaultValueFactory = _ => 2 };
        var maxRate = new Option<string?>("--max-rate") { Description = "e.g. 100MiB (per second)" };
        var cron = new Option<string?>("--cron") { Description = "when it runs by itself: 5-field cron, or 6 with seconds" };
        var timeZone = new Option<string>("--timezone") { DefaultValueFactory = _ => "UTC" };
        var disabled =
            new Option<bool>("--disabled") { Description = "the schedule does nothing until enabled; the job can still be run by hand" };
        var retries = new Option<int>("--retries") { Description = "further attempts for a VM whose run failed" };
        var timeout =
            new Option<string?>("--timeout") { Description = "a run still going after this (e.g. 2h) is cancelled and cleaned up" };
        var rpo = RpoCommands.Option();
        var (xoJob, xoSchedule) = XoJobCommands.IdOptions();
        var jobCreate = cli.Api("create", "define a job", async (r, client) =>
        {
            var targets = await TargetsAsync(client, r.GetValue(srs)!);
            var body = new
            {
                id = r.GetValue(xoJob), name = r.GetValue(jobName), sourcePool = r.GetValue(sourcePool), vms = r.GetValue(vms) ?? [],
                smart = r.GetValue(smart), targets, rpo = RpoCommands.Parse(r.GetValue(rpo)),
                settings = new
                {
                    copyRetention = r.GetValue(retention), fullInterval = r.GetValue(fullInterval), concurrency = r.GetValue(concurrency),
                    maxExportRate = Rate(r.GetValue(maxRate)),
                    retries = r.GetValue(retries), timeout = Timeout(r.GetValue(timeout)),
                },
                schedule = r.GetValue(cron) is not null || r.GetValue(xoSchedule) is not null
                    ? new { cron = r.GetValue(cron), timeZone = r.GetValue(timeZone), enabled = !r.GetValue(disabled),
                        id = r.GetValue(xoSchedule) } : null,
            };
            return await cli.Print(r, await client.PostAsync("/api/jobs", body), d => [$"job {d["id"]}", $"schedule {d["scheduleId"]}"]);
        }, jobName, sourcePool, vms, smart, srs, retention, fullInterval, concurrency, maxRate, cron, timeZone, disabled, retries, timeout,
            xoJob, xoSchedule, rpo);
        var jobId = new Argument<string>("job-id");
        var jobShow = cli.Api("show", "a job", async (r, client) => await cli.Print(r,
            await client.GetAsync($"/api/jobs/{Uri.EscapeDataString(r.GetValue(jobId)!)}"),
            d => [d.ToJsonString(CliContext.Indented)]), jobId);
        var wait = new Option<bool>("--wait") { Description =
            "wait for the end; exit 0 when every VM succeeded, 2 when some were skipped or failed, 1 when all failed" };
        var runSchedule = new Option<string?>("--schedule") { Description =
            "the schedule whose settings and restore points the run uses (default: the job's first)" };
        var jobRun = cli.Api("run", "run a job now", async (r, client, ct) =>
        {
            var id = Uri.EscapeDataString(r.GetValue(jobId)!);
            var accepted = await client.PostAsync(
                $"/api/jobs/{id}/run" + (r.GetValue(runSchedule) is { } sid ? $"?schedule={CliContext.Segment(sid)}" : ""), new { });
            var runId = accepted["runId"]!.GetValue<string>();
            foreach (var refused in accepted["vms"]!.AsArray().Where(v => !v!["accepted"]!.GetValue<bool>()))
            {
                await cli.Error.WriteLineAsync($"xcr: VM {refused!["vm"]}: {refused["reason"]}");
            }

            if (!r.GetValue(wait))
            {
                return await cli.Print(r, accepted, d => [$"run {runId}"]);
            }

            if (!r.GetValue(cli.Json) && cli.Terminal() is { } terminal
                && !await FollowAsync(client, runId, terminal, cli.TerminalWidth, ct))
            {
                return 130; // Ctrl-C: the run goes on without us
            }

            JsonNode run;
            while (true)
            {
                run = await client.GetAsync($"/api/runs/{runId}");
                if (run["vms"]!.AsArray().All(v => v!["status"]!.GetValue<string>() is not ("running" or "queued")))
                {
                    break;
                }

                await Task.Delay(500);
            }

            var statuses = run["vms"]!.AsArray().Select(v => v!["status"]!.GetValue<string>()).ToList();
            await cli.Print(r, run, d => d["vms"]!.AsArray().Select(v => $"{v!["vm"]} | {v["status"]} | "
                    + $"{(v["full"]?.GetValue<bool>() == true ? "full" : "delta")}{(v["error"] is { } e ? " | " + e : "")}")
                .Prepend($"run {runId}"));
            return TailCommands.ExitCode(statuses);
        }, jobId, wait, runSchedule);
        var jobList = cli.Api("list", "jobs", async (r, client) => await cli.Print(r, await client.GetAsync("/api/jobs"),
            d => d.AsArray().Select(j => $"{j!["id"]} | {j["name"]} | {j["sourcePool"]} | {j["vms"]!.AsArray().Count} VMs | "
                + ScheduleCommands.Summary(j["schedules"]!.AsArray()))
                .Append($"Count: {d.AsArray().Count} jobs")));
        var jobEnable = cli.Api("enable", "turn the job's schedules on", async (r, client) => await cli.Print(r,
            await client.PostAsync($"/api/jobs/{Uri.EscapeDataString(r.GetValue(jobId)!)}/enable", new { }),
                d => [$"job {d["id"]} enabled"]), jobId);
        var jobDisable = cli.Api("disable", "turn the job's schedules off (it can still be run by hand)", async (r, client) =>
            await cli.Print(r, await client.PostAsync($"/api/jobs/{Uri.EscapeDataString(r.GetValue(jobId)!)}/disable", new { }),
                d => [$"job {d["id"]} disabled"]), jobId);
        var changes = new Argument<string[]>("setting=value") { Description = $"one or more of: {string.Join(", ", JobChanges.Names)}",
            Arity = ArgumentArity.ZeroOrMore };
        var jobSet = cli.Api("set", "change a job's settings, VMs (vms=UUID,...) or target SRs (srs=POOL:SR,...)", async (r, client) =>
        {
            var body = r.GetValue(changes)!.Select(c => c.Split('=', 2) is [{ Length: > 0 } name, var value] ? (name, value)
                : throw new CliException($"{c}: expected setting=value"))
                .ToDictionary(c => c.name, c => c.value);
            if (r.GetValue(rpo) is { } target)
            {
                body["rpo"] = target; // the node parses it as a name=value change: "" or 0 removes the target
            }

            return await cli.Print(r, await client.PatchAsync($"/api/jobs/{CliContext.Segment(r.GetValue(jobId))}", body),
                d => [$"job {d["id"]} changed"]);
        }, jobId, changes, rpo);
        var purge = new Option<bool>("--purge") { Description =
            "also remove the job's snapshots and restore points from the pools (default: keep them, listed as orphans)" };
        var jobDelete = cli.Api("delete", "delete a job", async (r, client) => await cli.Print(r,
            await client.DeleteAsync($"/api/jobs/{CliContext.Segment(r.GetValue(jobId))}" + (r.GetValue(purge) ? "?purge=true" : "")),
                d => [$"job {d["id"]}: {d["message"]}"]), jobId, purge);
        yield return new Command("job", "jobs") { jobCreate, XoJobCommands.Import(cli), jobShow, jobRun, jobList, jobEnable, jobDisable,
            jobSet, jobDelete, ScheduleCommands.Build(cli, jobId) };
        yield return RpoCommands.Build(cli);
    }

    /// <summary>On a terminal, `job run --wait` shows what `run tail` shows until the run ends. Ctrl-C leaves the run going;
    /// a stream the node refuses or ends early only means no live display: the books still give the result (false: Ctrl-C).</summary>
    private static async Task<bool> FollowAsync(NodeClient client, string runId, IAnsiConsole terminal, Func<int> width,
        CancellationToken ct)
    {
        try
        {
            await ProgressDisplay.LiveAsync(terminal, client.EventsAsync($"/api/runs/{CliContext.Segment(runId)}/events", ct), width,
                ended: false);
        }
        catch (CliException)
        {
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return false;
        }

        return true;
    }

    /// <summary>POOL:SR-UUID as given, or an SR uuid alone whose pool the live inventory of the registered pools names.</summary>
    private static async Task<List<object>> TargetsAsync(NodeClient client, IEnumerable<string> given)
    {
        JsonArray? srs = null;
        var targets = new List<object>();
        foreach (var t in given)
        {
            if (t.Split(':', 2) is [{ Length: > 0 } pool, { Length: > 0 } sr])
            {
                targets.Add(new { pool, sr });
                continue;
            }

            if (!Guid.TryParse(t, out _))
            {
                throw new CliException($"--sr {t}: expected an SR uuid or POOL:SR-UUID");
            }

            srs ??= (await client.GetAsync("/api/srs")).AsArray();
            var found = srs.FirstOrDefault(x => x!["id"]!.GetValue<string>() == t)
                ?? throw new CliException($"--sr {t}: no registered pool has this SR (xcr sr list)");
            targets.Add(new { pool = found["pool"]!.GetValue<string>(), sr = t });
        }

        return targets;
    }

    /// <summary>"2h", "30m": at most 7 days (the node refuses more too).</summary>
    private static TimeSpan? Timeout(string? text) => text is null ? null
        : Units.ParseDuration(text) ?? throw new CliException($"--timeout {text}: expected {Units.DurationHint}");

    /// <summary>"100MiB", "20MB", "5000000": bytes per second.</summary>
    private static long Rate(string? text) => string.IsNullOrEmpty(text) ? 0
        : Units.ParseBytes(text)
            ?? throw new CliException($"--max-rate {text}: expected a number with an optional unit (KiB, MiB, GiB, KB, MB, GB)");
}
