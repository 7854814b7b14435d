using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>
/// The live inventory of registered pools, read by each pool's agent: SRs and VMs of one pool or of all (each row names its
/// pool). An unknown pool is 404; a pool that cannot be read is 502 naming it, rather than a list silently missing it.
/// </summary>
public static class InventoryApi
{
    public static void Map(WebApplication app, ClusterKey key)
    {
        app.MapGet("/api/pools/{name}/srs", (string name, ActorRegistry registry) => ListAsync(registry, name, SrRows));
        app.MapGet("/api/pools/{name}/vms", (string name, ActorRegistry registry) => ListAsync(registry, name, VmRowsAsync));
        app.MapGet("/api/srs", (string? pool, ActorRegistry registry) => ListAsync(registry, pool, SrRows));
        app.MapGet("/api/vms", (string? pool, ActorRegistry registry) => ListAsync(registry, pool, VmRowsAsync));
    }

    /// <summary>Reads one pool (or every registered pool, at once) through its agent and turns the inventories into rows.</summary>
    private static async Task<IResult> ListAsync(ActorRegistry registry, string? pool,
        Func<ActorRegistry, IReadOnlyList<PoolInventory>, Task<IEnumerable<object>>> rows)
    {
        var registered = (await ControlAsync<PoolList>(registry, new GetPools())).Pools.Select(p => p.Name).ToList();
        if (pool is not null && !registered.Contains(pool))
        {
            return Results.NotFound(new { error = $"no pool {pool}" });
        }

        var agents = await registry.GetAsync<PoolAgents>();
        var replies = await Task.WhenAll((pool is null ? registered : [pool]).Select(name => ReadAsync(agents, name)));
        return replies.OfType<InventoryFailed>().FirstOrDefault() is { } failed
            ? Results.Json(new { error = $"pool {failed.Pool}: {failed.Reason}" }, statusCode: StatusCodes.Status502BadGateway)
            : Results.Json(await rows(registry, [.. replies.Cast<PoolInventory>()]));
    }

    internal static async Task<IPoolAgentMessage> ReadAsync(IActorRef agents, string pool)
    {
        try
        {
            return await agents.Ask<IPoolAgentMessage>(new GetInventory(pool), AskTimeout);
        }
        catch (AskTimeoutException)
        {
            return new InventoryFailed(pool, $"its agent did not answer within {AskTimeout.TotalSeconds:F0} s");
        }
    }

    private static Task<IEnumerable<object>> SrRows(ActorRegistry registry, IReadOnlyList<PoolInventory> inventories)
        => Task.FromResult(inventories.SelectMany(i => i.Srs.Select(object (s) => new
        {
            pool = i.Pool, id = s.Uuid, name = s.Name, type = s.Type, shared = s.Shared, size = s.PhysicalSize,
            used = s.PhysicalUtilisation, free = s.Free,
        })));

    /// <summary>VM rows with their replication status. Only VMs a job ever covered have an entity worth asking: asking for any other
    /// VM would start (and, with remember-entities, keep) an entity for every VM of every pool.</summary>
    private static async Task<IEnumerable<object>> VmRowsAsync(ActorRegistry registry, IReadOnlyList<PoolInventory> inventories)
    {
        var ofJobs = (await ControlAsync<Known>(registry, new GetKnown())).Vms.ToHashSet(StringComparer.Ordinal);
        var region = await registry.GetAsync<ReplicatedVmRegion>();
        var vms = inventories.SelectMany(i => i.Vms.Select(vm => (i.Pool, Vm: vm))).ToList();
        async Task<ReplicatedVmState?> StateAsync(string vm) => ofJobs.Contains(vm) ? await VmStateAsync(region, vm) : null;
        var states = await Task.WhenAll(vms.Select(v => StateAsync(v.Vm.Uuid)));
        return vms.Zip(states, object (v, state) => new
        {
            pool = v.Pool, id = v.Vm.Uuid, name = v.Vm.Name, powerState = v.Vm.PowerState, tags = v.Vm.Tags,
            disks = v.Vm.Disks.Select(d => new { id = d.VdiUuid, name = d.Name, size = d.VirtualSize, sr = d.SrUuid }),
            isReplica = v.Vm.IsReplica,
            lastSuccess = state?.LastSuccess, lastStatus = state?.History.LastOrDefault()?.Result.Status, running = state?.Current?.RunId,
        });
    }
}
