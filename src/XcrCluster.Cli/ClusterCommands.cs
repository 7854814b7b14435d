using System.CommandLine;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>`xcr cluster` and `xcr sharding`: pbm's cluster palette and its output conventions.</summary>
public static class ClusterCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        // cluster show (pbm's format)
        var clusterShow = cli.Api("show", "the members: roles, status, health, addresses, pool agents, shards", async (r, client) =>
            await cli.Print(r, await client.GetAsync("/api/cluster"),
                d => d["members"]!.AsArray().Select(m => Member(m!)).Append($"Count: {d["members"]!.AsArray().Count} nodes")));
        var memberAddress = new Argument<string>("address");
        Command ClusterAction(string verb, string description) => cli.Api(verb, description, async (r, client) => await cli.Print(r,
            await client.PostAsync($"/api/cluster/{verb}?address={Uri.EscapeDataString(r.GetValue(memberAddress)!)}", new { }), d => [$"{d["address"]}: {verb}"]), memberAddress);
        var downUnreachable = cli.Api("down-unreachable", "down every unreachable member", async (r, client) => await cli.Print(r,
            await client.PostAsync("/api/cluster/down-unreachable", new { }), d => d["downed"]!.AsArray().Select(a => $"{a}: down").Append($"Count: {d["downed"]!.AsArray().Count} downed")));
        yield return new Command("cluster", "the cluster") { clusterShow, TailCommands.ClusterTail(cli), ClusterAction("leave", "a member leaves gracefully"), ClusterAction("down", "mark a member down"), downUnreachable };
        var regionName = new Argument<string>("region");
        var regions = cli.Api("regions", "shard regions", async (r, client) => await cli.Print(r, await client.GetAsync("/api/sharding/regions"), d => d.AsArray().Select(x => x!.GetValue<string>())));
        var regionStats = cli.Api("region-stats", "entities per shard of a region on the node", async (r, client) => await cli.Print(r,
            await client.GetAsync($"/api/sharding/regions/{Uri.EscapeDataString(r.GetValue(regionName)!)}"),
            d => d["shards"]!.AsArray().Select(x => $"shard {x!["id"]} | {x["entities"]} entities").Append($"Count: {d["shards"]!.AsArray().Count} shards")), regionName);
        yield return new Command("sharding", "cluster sharding") { regions, regionStats };
    }

    /// <summary>One member (pbm's first columns, then what the node tells of itself: "?" when it did not answer).</summary>
    private static string Member(JsonNode m)
    {
        static string Names(JsonNode? list) => list is null ? "?" : string.Join(", ", list.AsArray().Select(x => x!.GetValue<string>()));
        static string Known(JsonNode? value) => value?.ToString() ?? "?";
        var answered = m["answered"]?.GetValue<bool>() ?? false;
        var health = m["reachable"]?.GetValue<bool>() == false ? "unreachable" : answered ? "reachable" : "reachable, not answering";
        var shards = string.Join(", ", m["shards"]?.AsArray()
            .Select(x => $"{x!["region"]} {Known(x["shards"])} shards {Known(x["entities"])} entities") ?? []);
        return $"{m["address"]} | [{Names(m["roles"])}] | {m["status"]} | {m["version"]} | {health} | http {Known(m["http"])} | "
            + $"data {Known(m["data"])} | agents [{Names(m["agents"])}] | {(shards.Length > 0 ? shards : "no shards")}";
    }
}
