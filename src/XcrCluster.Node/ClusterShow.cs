using Akka.Actor;
using Akka.Cluster.Sharding;
using XcrCluster.Actors;

namespace XcrCluster.Node;

/// <summary>`GET /api/cluster`: every member with its roles, status and reachability (Akka membership); the addresses it serves
/// and the pool agents it hosts, which only the node knows (its <see cref="NodeInfoActor"/>, asked with a bounded wait: a
/// node that does not answer shows them as null, the request never hangs on it); and its shards per region (the regions'
/// cluster-wide stats).</summary>
public static class ClusterShow
{
    /// <summary>How long each member, and the shard stats, are waited for.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Starts this node's <see cref="NodeInfoActor"/> once the node runs; it answers from DIR/endpoint.</summary>
    public static void StartNodeInfo(WebApplication app)
    {
        var dataDir = app.Services.GetRequiredService<NodeOptions>().DataDir;
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var system = app.Services.GetRequiredService<ActorSystem>();
            system.ActorOf(NodeInfoActor.Props(() => Endpoints(system, dataDir)), NodeInfoActor.Name);
        });
    }

    public static async Task<object> DescribeAsync(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members.ToList();
        var infos = await Task.WhenAll(members.Select(m => unreachable.Contains(m.Address) ? Task.FromResult<NodeInfo?>(null)
            : NodeInfoActor.AskAsync(system, m.Address, AnswerTimeout)));
        var regions = await ShardStatsAsync(system);
        return new
        {
            self = cluster.SelfAddress.ToString(),
            members = members.Select((m, i) => new
            {
                address = m.Address.ToString(),
                roles = m.Roles.Order(),
                status = m.Status.ToString(),
                version = m.AppVersion.ToString(),
                reachable = !unreachable.Contains(m.Address),
                answered = infos[i] is not null,
                http = infos[i]?.Endpoints.GetValueOrDefault("http"),
                data = infos[i]?.Endpoints.GetValueOrDefault("data"),
                agents = infos[i]?.Agents,
                shards = regions.Where(r => r.Stats is null || r.Stats.ContainsKey(m.Address)).Select(r => new
                {
                    region = r.Region,
                    shards = r.Stats?[m.Address].Stats.Count,
                    entities = r.Stats?[m.Address].Stats.Values.Sum(),
                }),
            }),
            unreachable = state.Unreachable.Select(m => m.Address.ToString()),
        };
    }

    /// <summary>Each region's shards per node; null stats for a region whose coordinator did not answer in time.</summary>
    private static async Task<List<(string Region, IReadOnlyDictionary<Address, ShardRegionStats>? Stats)>> ShardStatsAsync(
        ActorSystem system)
    {
        var sharding = ClusterSharding.Get(system);
        var regions = new List<(string, IReadOnlyDictionary<Address, ShardRegionStats>?)>();
        // A node without the region's role has only a proxy to it (not among its type names); it asks the coordinator all the same.
        foreach (var name in sharding.ShardTypeNames.Append(ReplicatedVmMessageExtractor.RegionName).Distinct().Order())
        {
            try
            {
                var region = sharding.ShardTypeNames.Contains(name) ? sharding.ShardRegion(name) : sharding.ShardRegionProxy(name);
                var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(AnswerTimeout),
                    AnswerTimeout + TimeSpan.FromSeconds(1));
                regions.Add((name, stats.Regions.ToDictionary(r => r.Key, r => r.Value)));
            }
            catch (AskTimeoutException)
            {
                regions.Add((name, null));
            }
            catch (ArgumentException)
            {
                // Neither the region nor a proxy to it on this node: nothing to tell.
            }
        }

        return regions;
    }

    /// <summary>DIR/endpoint as this node wrote it once up; none before that (or while the file still names an earlier start).</summary>
    private static Dictionary<string, string> Endpoints(ActorSystem system, string dataDir)
    {
        try
        {
            var endpoints = File.ReadAllLines(Path.Combine(dataDir, "endpoint")).Select(l => l.Split('=', 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0], p => p[1]);
            return endpoints.GetValueOrDefault("akka") == Akka.Cluster.Cluster.Get(system).SelfAddress.ToString() ? endpoints : [];
        }
        catch (IOException)
        {
            return [];
        }
    }
}
