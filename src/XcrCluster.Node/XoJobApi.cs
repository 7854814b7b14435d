using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>`xcr job import`: a Xen Orchestra job (its JSON, read by <see cref="XoJobImport"/>) defined here with its own job and
/// schedule ids, so the first run continues the chains Xen Orchestra made. Its target SRs are found on the registered pools
/// unless the request names their pool.</summary>
public static class XoJobApi
{
    /// <summary><c>xo</c>: the JSON text as Xen Orchestra exports it; <c>srPools</c>: SR uuid to pool; <c>targetPool</c>: the pool
    /// of every other SR; <c>xoJob</c>: which job of a config export.</summary>
    public sealed record ImportRequest(string? SourcePool, string? Xo, string? XoJob, Dictionary<string, string>? SrPools,
        string? TargetPool);

    public static void Map(WebApplication app)
    {
        app.MapPost("/api/jobs/import", async (ImportRequest request, ActorRegistry registry) =>
        {
            XoJob xo;
            try
            {
                xo = XoJobImport.Read(request.Xo ?? "", request.SourcePool ?? "", request.XoJob);
            }
            catch (FormatException e)
            {
                return Results.BadRequest(new { error = $"xo job: {e.Message}" });
            }

            var pools = new Dictionary<string, string>(request.SrPools ?? []);
            var missing = xo.Srs.Where(sr => !pools.ContainsKey(sr)).ToList();
            if (missing.Count > 0 && request.TargetPool is { } target)
            {
                missing.ForEach(sr => pools[sr] = target);
            }
            else if (missing.Count > 0)
            {
                var (found, error) = await FindAsync(registry, missing);
                if (error is not null)
                {
                    return Results.Json(new { error }, statusCode: StatusCodes.Status502BadGateway);
                }

                if (missing.FirstOrDefault(sr => !found.ContainsKey(sr)) is { } unknown)
                {
                    return Results.BadRequest(new { error = $"srs: SR {unknown} is on no registered pool; "
                        + $"name its pool (xcr job import --sr-pool {unknown}=POOL)" });
                }

                missing.ForEach(sr => pools[sr] = found[sr]);
            }

            var job = new JobDefinition(xo.Id, xo.Name, request.SourcePool ?? "", xo.Vms,
                [.. xo.Srs.Select(sr => new TargetRef(pools[sr], sr))], xo.Settings)
            {
                Schedules = xo.Schedules, Defined = DateTimeOffset.UtcNow, Smart = xo.Smart,
            };
            var reply = await ControlAsync<IControlReply>(registry, new DefineJob(job));
            return reply is Done
                ? Results.Json(new
                {
                    id = job.Id, scheduleId = job.ScheduleId, schedules = job.Schedules.Select(s => s.Id), warnings = xo.Warnings,
                })
                : Reply(reply);
        });
    }

    /// <summary>The registered pool of each SR found in the live inventories, or why a pool could not be read.</summary>
    private static async Task<(Dictionary<string, string> Pools, string? Error)> FindAsync(ActorRegistry registry, List<string> srs)
    {
        var agents = await registry.GetAsync<PoolAgents>();
        var found = new Dictionary<string, string>();
        foreach (var pool in (await ControlAsync<PoolList>(registry, new GetPools())).Pools)
        {
            switch (await InventoryApi.ReadAsync(agents, pool.Name))
            {
                case PoolInventory inventory:
                    foreach (var sr in inventory.Srs.Where(s => srs.Contains(s.Uuid)))
                    {
                        found[sr.Uuid] = pool.Name;
                    }

                    break;
                case InventoryFailed failed when srs.Any(s => !found.ContainsKey(s)):
                    return (found, $"pool {failed.Pool}: {failed.Reason} (name the SRs' pool: --sr-pool SR=POOL or --target-pool)");
            }
        }

        return (found, null);
    }
}
