using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>
/// `xcr`: pools, jobs, runs and the cluster through a node's HTTP API, in pbm's output conventions, plus
/// `xcr demo`. Data commands take --json (stable field names); errors are one line and a non-zero exit code
/// (1 for a failed operation, 2 for bad usage); a pool password never goes on a command line.
/// </summary>
public static class XcrCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TextReader input)
    {
        var node = new Option<string?>("--node") { Description = "the node's HTTP URL (default: XCR_NODE, then the local node's data directory)", Recursive = true };
        var token = new Option<string?>("--token") { Description = "bearer token (default: XCR_TOKEN, then the local node's data directory)", Recursive = true };
        var json = new Option<bool>("--json") { Description = "print JSON with stable field names", Recursive = true };
        var root = new RootCommand("xcr: incremental replication of XCP-ng / XenServer VMs") { node, token, json };

        Command Api(string name, string description, Func<System.CommandLine.ParseResult, NodeClient, Task<int>> action, params Symbol[] symbols)
        {
            var command = new Command(name, description);
            foreach (var symbol in symbols)
            {
                switch (symbol)
                {
                    case Argument argument:
                        command.Arguments.Add(argument);
                        break;
                    case Option option:
                        command.Options.Add(option);
                        break;
                }
            }

            command.SetAction(async (result, _) =>
            {
                try
                {
                    using var client = NodeClient.Connect(result.GetValue(node), result.GetValue(token));
                    return await action(result, client);
                }
                catch (CliException e)
                {
                    await error.WriteLineAsync($"xcr: {e.Message}");
                    return 1;
                }
            });
            return command;
        }

        async Task<int> Print(System.CommandLine.ParseResult result, JsonNode data, Func<JsonNode, IEnumerable<string>> lines)
        {
            foreach (var line in result.GetValue(json) ? [data.ToJsonString(Indented)] : lines(data))
            {
                await output.WriteLineAsync(line);
            }

            return 0;
        }

        // pool add|list
        var poolName = new Argument<string>("name");
        var poolUrl = new Argument<string>("xapi-url");
        var username = new Option<string>("--username") { DefaultValueFactory = _ => "root" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "read the password from standard input (else XCR_POOL_PASSWORD)" };
        var allowUnauthorized = new Option<bool>("--allow-unauthorized");
        var fingerprint = new Option<string?>("--fingerprint") { Description = "the pool master's certificate SHA-256" };
        var poolAdd = Api("add", "register a pool", async (r, client) =>
        {
            var url = r.GetValue(poolUrl)!;
            var password = r.GetValue(passwordStdin) ? (await input.ReadLineAsync())?.TrimEnd('\r') : Environment.GetEnvironmentVariable("XCR_POOL_PASSWORD");
            if (Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.UserInfo.Contains(':', StringComparison.Ordinal))
            {
                await error.WriteLineAsync("xcr: warning: a password in the URL ends up in shell history and process lists; prefer --password-stdin");
            }
            else if (password is null)
            {
                throw new CliException("no password: give --password-stdin or XCR_POOL_PASSWORD (never on the command line)");
            }

            var body = new { name = r.GetValue(poolName), url, username = parsed?.UserInfo.Length > 0 ? null : r.GetValue(username), password, fingerprint = r.GetValue(fingerprint), allowUnauthorized = r.GetValue(allowUnauthorized) };
            var reply = await client.PostAsync("/api/pools", body);
            return await Print(r, reply, d => [$"pool {d["id"]} registered"]);
        }, poolName, poolUrl, username, passwordStdin, allowUnauthorized, fingerprint);
        var poolList = Api("list", "registered pools", async (r, client) => await Print(r, await client.GetAsync("/api/pools"),
            d => d.AsArray().Select(p => $"{p!["name"]} | {p["url"]} | {p["username"]}").Append($"Count: {d.AsArray().Count} pools")));
        root.Subcommands.Add(new Command("pool", "pools") { poolAdd, poolList });

        // job create|show|run
        var jobName = new Argument<string>("name");
        var sourcePool = new Option<string>("--pool") { Description = "the source pool", Required = true };
        var vms = new Option<string[]>("--vm") { Description = "a VM uuid (repeat for more)", Required = true, AllowMultipleArgumentsPerToken = true };
        var srs = new Option<string[]>("--sr") { Description = "a target SR as POOL:SR-UUID (repeat for more)", Required = true, AllowMultipleArgumentsPerToken = true };
        var retention = new Option<int>("--retention") { DefaultValueFactory = _ => 1 };
        var fullInterval = new Option<int>("--full-interval");
        var concurrency = new Option<int>("--concurrency") { DefaultValueFactory = _ => 2 };
        var maxRate = new Option<string?>("--max-rate") { Description = "e.g. 100MiB (per second)" };
        var cron = new Option<string?>("--cron") { Description = "when it runs by itself: 5-field cron, or 6 with seconds" };
        var timeZone = new Option<string>("--timezone") { DefaultValueFactory = _ => "UTC" };
        var disabled = new Option<bool>("--disabled") { Description = "the schedule does nothing until enabled; the job can still be run by hand" };
        var jobCreate = Api("create", "define a job", async (r, client) =>
        {
            var targets = r.GetValue(srs)!.Select(t => t.Split(':', 2) is [var p, var s] && p.Length > 0 && s.Length > 0
                ? new { pool = p, sr = s }
                : throw new CliException($"--sr {t}: expected POOL:SR-UUID")).ToList();
            var body = new
            {
                name = r.GetValue(jobName), sourcePool = r.GetValue(sourcePool), vms = r.GetValue(vms), targets,
                settings = new { copyRetention = r.GetValue(retention), fullInterval = r.GetValue(fullInterval), concurrency = r.GetValue(concurrency), maxExportRate = Rate(r.GetValue(maxRate)) },
                schedule = r.GetValue(cron) is { } expression ? new { cron = expression, timeZone = r.GetValue(timeZone), enabled = !r.GetValue(disabled) } : null,
            };
            return await Print(r, await client.PostAsync("/api/jobs", body), d => [$"job {d["id"]}", $"schedule {d["scheduleId"]}"]);
        }, jobName, sourcePool, vms, srs, retention, fullInterval, concurrency, maxRate, cron, timeZone, disabled);
        var jobId = new Argument<string>("job-id");
        var jobShow = Api("show", "a job", async (r, client) => await Print(r, await client.GetAsync($"/api/jobs/{Uri.EscapeDataString(r.GetValue(jobId)!)}"),
            d => [d.ToJsonString(Indented)]), jobId);
        var wait = new Option<bool>("--wait") { Description = "wait for the end; exit 0 when every VM succeeded, 2 when some were skipped or failed, 1 when all failed" };
        var jobRun = Api("run", "run a job now", async (r, client) =>
        {
            var id = Uri.EscapeDataString(r.GetValue(jobId)!);
            var accepted = await client.PostAsync($"/api/jobs/{id}/run", new { });
            var runId = accepted["runId"]!.GetValue<string>();
            foreach (var refused in accepted["vms"]!.AsArray().Where(v => !v!["accepted"]!.GetValue<bool>()))
            {
                await error.WriteLineAsync($"xcr: VM {refused!["vm"]}: {refused["reason"]}");
            }

            if (!r.GetValue(wait))
            {
                return await Print(r, accepted, d => [$"run {runId}"]);
            }

            JsonNode run;
            while (true)
            {
                run = await client.GetAsync($"/api/jobs/{id}/runs/{runId}");
                if (run["vms"]!.AsArray().All(v => v!["status"]!.GetValue<string>() is not ("running" or "queued")))
                {
                    break;
                }

                await Task.Delay(500);
            }

            var statuses = run["vms"]!.AsArray().Select(v => v!["status"]!.GetValue<string>()).ToList();
            await Print(r, run, d => d["vms"]!.AsArray().Select(v => $"{v!["vm"]} | {v["status"]} | {(v["full"]?.GetValue<bool>() == true ? "full" : "delta")}{(v["error"] is { } e ? " | " + e : "")}")
                .Prepend($"run {runId}"));
            return statuses.All(s => s == "success") ? 0 : statuses.Any(s => s is "success" or "skipped") ? 2 : 1;
        }, jobId, wait);
        var jobList = Api("list", "jobs", async (r, client) => await Print(r, await client.GetAsync("/api/jobs"),
            d => d.AsArray().Select(j => $"{j!["id"]} | {j["name"]} | {j["sourcePool"]} | {j["vms"]!.AsArray().Count} VMs | "
                + (j["schedule"] is { } s ? $"{s["cron"]} {s["timeZone"]}{(s["enabled"]!.GetValue<bool>() ? "" : " (disabled)")}" : "manual"))
                .Append($"Count: {d.AsArray().Count} jobs")));
        var jobEnable = Api("enable", "turn the job's schedule on", async (r, client) => await Print(r,
            await client.PostAsync($"/api/jobs/{Uri.EscapeDataString(r.GetValue(jobId)!)}/enable", new { }), d => [$"job {d["id"]} enabled"]), jobId);
        var jobDisable = Api("disable", "turn the job's schedule off (it can still be run by hand)", async (r, client) => await Print(r,
            await client.PostAsync($"/api/jobs/{Uri.EscapeDataString(r.GetValue(jobId)!)}/disable", new { }), d => [$"job {d["id"]} disabled"]), jobId);
        root.Subcommands.Add(new Command("job", "jobs") { jobCreate, jobShow, jobRun, jobList, jobEnable, jobDisable });
        var rpo = Api("rpo", "replication lag per VM against its schedule (violations marked !)", async (r, client) => await Print(r, await client.GetAsync("/api/rpo"),
            d => d.AsArray().Select(v => $"{(v!["violation"]!.GetValue<bool>() ? "!" : " ")} {v["vm"]} | {v["job"]} | "
                + (v["lagSeconds"]?.GetValue<double>() is { } lag ? $"{TimeSpan.FromSeconds(Math.Round(lag))} since the last success" : "never replicated"))));
        root.Subcommands.Add(rpo);

        // run show
        var runId = new Argument<string>("run-id");
        var runShow = Api("show", "a run's task tree", async (r, client) => await Print(r,
            await client.GetAsync($"/api/jobs/{Uri.EscapeDataString(r.GetValue(jobId)!)}/runs/{Uri.EscapeDataString(r.GetValue(runId)!)}"),
            d => d["vms"]!.AsArray().SelectMany(v => v!["tasks"] is { } tasks ? Tree(tasks, 0) : [$"VM {v["vm"]}: {v["status"]}"])), jobId, runId);
        var ofJob = new Option<string?>("--job");
        var runList = Api("list", "runs, newest first", async (r, client) => await Print(r,
            await client.GetAsync("/api/runs" + (r.GetValue(ofJob) is { } j ? $"?job={Uri.EscapeDataString(j)}" : "")),
            d => d.AsArray().Select(x => $"{x!["id"]} | {x["jobId"]} | {x["vm"]} | {x["status"]} | {(x["full"]!.GetValue<bool>() ? "full" : "delta")} | {x["bytes"]} B | {x["started"]}")
                .Append($"Count: {d.AsArray().Count} runs")), ofJob);
        root.Subcommands.Add(new Command("run", "runs") { runShow, runList });
        var ofVm = new Option<string?>("--vm");
        var replicaList = Api("list", "restore points per VM and target SR", async (r, client) => await Print(r,
            await client.GetAsync("/api/replicas" + (r.GetValue(ofVm) is { } v ? $"?vm={Uri.EscapeDataString(v)}" : "")),
            d => d.AsArray().Select(x => $"{x!["vm"]} | SR {x["sr"]} | {string.Join(", ", x["restorePoints"]!.AsArray().Select(p => p!.GetValue<string>()))}")), ofVm);
        root.Subcommands.Add(new Command("replica", "replicas") { replicaList });

        // cluster show (pbm's format)
        var clusterShow = Api("show", "the cluster's members", async (r, client) => await Print(r, await client.GetAsync("/api/cluster"),
            d => d["members"]!.AsArray().Select(m => $"{m!["address"]} | [{string.Join(", ", m["roles"]!.AsArray().Select(x => x!.GetValue<string>()))}] | {m["status"]} | {m["version"]}")
                .Append($"Count: {d["members"]!.AsArray().Count} nodes")));
        var memberAddress = new Argument<string>("address");
        Command ClusterAction(string verb, string description) => Api(verb, description, async (r, client) => await Print(r,
            await client.PostAsync($"/api/cluster/{verb}?address={Uri.EscapeDataString(r.GetValue(memberAddress)!)}", new { }), d => [$"{d["address"]}: {verb}"]), memberAddress);
        var downUnreachable = Api("down-unreachable", "down every unreachable member", async (r, client) => await Print(r,
            await client.PostAsync("/api/cluster/down-unreachable", new { }), d => d["downed"]!.AsArray().Select(a => $"{a}: down").Append($"Count: {d["downed"]!.AsArray().Count} downed")));
        root.Subcommands.Add(new Command("cluster", "the cluster") { clusterShow, ClusterAction("leave", "a member leaves gracefully"), ClusterAction("down", "mark a member down"), downUnreachable });
        var regionName = new Argument<string>("region");
        var regions = Api("regions", "shard regions", async (r, client) => await Print(r, await client.GetAsync("/api/sharding/regions"), d => d.AsArray().Select(x => x!.GetValue<string>())));
        var regionStats = Api("region-stats", "entities per shard of a region on the node", async (r, client) => await Print(r,
            await client.GetAsync($"/api/sharding/regions/{Uri.EscapeDataString(r.GetValue(regionName)!)}"),
            d => d["shards"]!.AsArray().Select(x => $"shard {x!["id"]} | {x["entities"]} entities").Append($"Count: {d["shards"]!.AsArray().Count} shards")), regionName);
        root.Subcommands.Add(new Command("sharding", "cluster sharding") { regions, regionStats });

        // demo
        var keep = new Option<bool>("--keep");
        var dataDir = new Option<string?>("--data");
        var demo = new Command("demo", "simulated pools, a one-node cluster, a full then a delta replication") { keep, dataDir };
        demo.SetAction(async (result, _) => await Demo.RunAsync([.. result.GetValue(keep) ? ["--keep"] : Array.Empty<string>(), .. result.GetValue(dataDir) is { } d ? ["--data", d] : Array.Empty<string>()], output));
        root.Subcommands.Add(demo);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 || args.Length == 0)
        {
            foreach (var e in parsed.Errors)
            {
                await error.WriteLineAsync($"xcr: {e.Message}");
            }

            await error.WriteLineAsync("usage: xcr (pool add|list, job create|list|show|run|enable|disable, run list|show, replica list, rpo, cluster show|leave|down|down-unreachable, sharding regions|region-stats, demo) [--json] [--node URL] [--token T]; xcr --help");
            return 2;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>"100MiB", "20MB", "5000000": bytes per second.</summary>
    private static long Rate(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        (string Suffix, long Factor)[] units = [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000)];
        var (suffix, factor) = units.FirstOrDefault(u => text.EndsWith(u.Suffix, StringComparison.OrdinalIgnoreCase), ("", 1));
        return long.TryParse(text[..^suffix.Length], out var n) && n >= 0 ? n * factor : throw new CliException($"--max-rate {text}: expected a number with an optional unit (KiB, MiB, GiB, KB, MB, GB)");
    }

    private static IEnumerable<string> Tree(JsonNode task, int depth)
    {
        var size = task["size"]?.GetValue<long>() is { } bytes ? $" {bytes / 1048576.0:F1} MiB" : "";
        var seconds = task["durationSeconds"]?.GetValue<double>() is { } d ? $" {d:F1} s" : "";
        yield return $"{new string(' ', depth * 2)}{task["name"]}: {task["status"]}{size}{seconds}{(task["message"] is { } m ? " — " + m : "")}";
        foreach (var child in task["children"]!.AsArray())
        {
            foreach (var line in Tree(child!, depth + 1))
            {
                yield return line;
            }
        }
    }
}
