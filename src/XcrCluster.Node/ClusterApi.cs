using Akka.Actor;
using XcrCluster.Actors;

namespace XcrCluster.Node;

/// <summary>The node, the cluster's members and actions (pbm's palette), sharding regions and their stats.</summary>
public static class ClusterApi
{
    public static void Map(WebApplication app, ClusterKey key)
    {
        app.MapGet("/api/node", async (ActorSystem system, TaskCompletionSource<XcrCluster.DataChannel.ChannelReceiver> channel) =>
        {
            var receiver = await channel.Task;
            var (transfers, bytes) = receiver.Received;
            return Results.Json(new
            {
                address = Akka.Cluster.Cluster.Get(system).SelfAddress.ToString(),
                roles = Akka.Cluster.Cluster.Get(system).SelfRoles.Order(),
                channel = new { endpoint = receiver.Endpoint.ToString(), tls = receiver.TlsFingerprint is not null,
                    transfersReceived = transfers, bytesReceived = bytes },
            });
        });
        app.MapPost("/api/cluster/{action}", (string action, string? address, ActorSystem system) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            if (action == "down-unreachable")
            {
                var unreachable = cluster.State.Unreachable.Select(m => m.Address).ToList();
                unreachable.ForEach(cluster.Down);
                return Results.Json(new { downed = unreachable.Select(a => a.ToString()) });
            }

            if (action is not ("leave" or "down"))
            {
                return Results.NotFound(new { error = $"no cluster action {action} (leave, down, down-unreachable)" });
            }

            var member = cluster.State.Members.FirstOrDefault(m => m.Address.ToString() == address);
            if (member is null)
            {
                return address is null ? Results.BadRequest(new { error = "address: required" })
                    : Results.NotFound(new { error = $"no member {address}" });
            }

            if (action == "leave")
            {
                cluster.Leave(member.Address);
            }
            else
            {
                cluster.Down(member.Address);
            }

            return Results.Json(new { address = member.Address.ToString(), action });
        });
        app.MapGet("/api/sharding/regions", (ActorSystem system) =>
            Results.Json(Akka.Cluster.Sharding.ClusterSharding.Get(system).ShardTypeNames.Order()));
        app.MapGet("/api/sharding/regions/{region}", async (string region, ActorSystem system) =>
        {
            var sharding = Akka.Cluster.Sharding.ClusterSharding.Get(system);
            if (!sharding.ShardTypeNames.Contains(region))
            {
                return Results.NotFound(new { error = $"no region {region}" });
            }

            var stats = await ControlApi.AskPartAsync<Akka.Cluster.Sharding.ShardRegionStats>(
                sharding.ShardRegion(region), Akka.Cluster.Sharding.GetShardRegionStats.Instance, $"the {region} shard region");
            return Results.Json(new { region, shards = stats.Stats.OrderBy(s => s.Key).Select(s => new { id = s.Key, entities = s.Value }),
                failed = stats.Failed });
        });
        app.MapGet("/api/cluster", async (ActorSystem system) => Results.Json(await ClusterShow.DescribeAsync(system)));
        ClusterShow.StartNodeInfo(app);
    }
}
