using System.CommandLine;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>`xcr run` and `xcr replica`: runs, their task trees, restore points.</summary>
public static class RunCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        // run show
        var runId = new Argument<string>("run-id");
        var runShow = cli.Api("show", "a run's task tree", async (r, client) => await cli.Print(r,
            await client.GetAsync($"/api/runs/{CliContext.Segment(r.GetValue(runId))}"),
            d => d["vms"]!.AsArray().SelectMany(v => v!["tasks"] is { } tasks ? Tree(tasks, 0) : [$"VM {v["vm"]}: {v["status"]}"])), runId);
        var ofJob = new Option<string?>("--job");
        var runList = cli.Api("list", "runs, newest first", async (r, client) => await cli.Print(r,
            await client.GetAsync("/api/runs" + (r.GetValue(ofJob) is { } j ? $"?job={Uri.EscapeDataString(j)}" : "")),
            d => d.AsArray().Select(x => $"{x!["id"]} | {x["jobId"]} | {x["vm"]} | {x["status"]} | {(x["full"]!.GetValue<bool>() ? "full" : "delta")} | {x["bytes"]} B | {x["started"]}")
                .Append($"Count: {d.AsArray().Count} runs")), ofJob);
        yield return new Command("run", "runs") { runShow, runList, TailCommands.RunTail(cli) };
        var ofVm = new Option<string?>("--vm");
        var replicaList = cli.Api("list", "restore points per VM and target SR", async (r, client) => await cli.Print(r,
            await client.GetAsync("/api/replicas" + (r.GetValue(ofVm) is { } v ? $"?vm={Uri.EscapeDataString(v)}" : "")),
            d => d.AsArray().Select(x => $"{x!["vm"]} | SR {x["sr"]} | {string.Join(", ", x["restorePoints"]!.AsArray().Select(p => p!.GetValue<string>()))}"
                + (x["orphan"]!.GetValue<bool>() ? " | orphan (no job covers it: xcr replica purge)" : "")).Append($"Count: {d.AsArray().Count} replicas")), ofVm);
        var vm = new Argument<string>("vm-uuid");
        var ofSr = new Option<string?>("--sr") { Description = "only the restore points on this SR (default: every SR)" };
        var replicaPurge = cli.Api("purge", "remove an orphan VM's restore points and replica from the target pools", async (r, client) => await cli.Print(r,
            await client.DeleteAsync($"/api/replicas/{CliContext.Segment(r.GetValue(vm))}" + (r.GetValue(ofSr) is { } sr ? $"?sr={CliContext.Segment(sr)}" : "")),
            d => [$"VM {d["vm"]}: {d["restorePoints"]} restore points and {d["replicas"]} replica VMs removed"]), vm, ofSr);
        yield return new Command("replica", "replicas") { replicaList, replicaPurge };
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
