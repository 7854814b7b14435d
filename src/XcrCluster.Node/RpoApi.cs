using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;

namespace XcrCluster.Node;

/// <summary>GET /api/rpo: every VM of every job (a smart selection's as it picks them now and as its runs had them), late ones
/// first, with its lag from the newest restore point's snapshot time against the job's target. The dashboard reads exactly
/// these fields: jobId, job, vm, vmName (the source VM's name_label from its pool's inventory, null when unknown), lagSeconds
/// (null: no restore point yet), lastSuccess, newestPoint, periodSeconds (the shortest enabled cron period), targetSeconds and
/// targetFrom ("rpo": set on the job or a schedule and kept by the scheduler; "schedule": none set, twice the period;
/// null: no target, never late), scheduleId (the schedule carrying an "rpo" target), violation.</summary>
public static class RpoApi
{
    /// <summary>Shared by requests: a dashboard asking every few seconds must not read each source pool's inventory each time.</summary>
    private static readonly RpoInventories Inventories = new(TimeSpan.FromSeconds(30));

    public static void Map(WebApplication app)
        => app.MapGet("/api/rpo", async (ActorRegistry registry) =>
        {
            var parts = new RpoSweep.Parts(await registry.GetAsync<ControlPlane>(), await registry.GetAsync<ReplicatedVmRegion>(),
                await registry.GetAsync<PoolAgents>()) { Wait = ControlApi.AskTimeout };
            var result = await RpoSweep.RunAsync(parts, Inventories, DateTimeOffset.UtcNow, plan: false);

            return Results.Json(result.Rows.Select(r => new
            {
                jobId = r.JobId, job = r.JobName, vm = r.Vm, vmName = r.VmName, lagSeconds = r.Lag?.TotalSeconds,
                lastSuccess = r.LastSuccess, newestPoint = r.NewestPoint, periodSeconds = r.Period?.TotalSeconds,
                targetSeconds = r.Target?.Target.TotalSeconds, targetFrom = r.Target?.From, scheduleId = r.Target?.Schedule?.Id,
                violation = r.Violation,
            }));
        });
}
