using System.CommandLine;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>`xcr cluster` and `xcr sharding`: pbm's cluster palette and its output conventions.</summary>
public static class ClusterCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        // cluster show (pbm's format)
        var clusterShow = cli.Api("show", "the cluster's members", async (r, client) => await cli.Print(r, await client.GetAsync("/api/cluster"),
            d => d["members"]!.AsArray().Select(m => $"{m!["address"]} | [{string.Join(", ", m["roles"]!.AsArray().Select(x => x!.GetValue<string>()))}] | {m["status"]} | {m["version"]}")
                .Append($"Count: {d["members"]!.AsArray().Count} nodes")));
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
}
