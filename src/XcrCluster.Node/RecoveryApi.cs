using Akka.Hosting;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>Recovery commands: failover (a copy or the replica itself, one VM or a whole job). Each checks its input and
/// the VM's chain before anything changes, runs on the agent of the pool holding the replica, reports per VM and is kept
/// as a record `xcr run show` displays.</summary>
public static class RecoveryApi
{
    /// <summary>`xcr failover start`: <c>mode</c> "copy" or "force" (which needs <c>yes</c>).</summary>
    public sealed record FailoverRequest(string? Vm, string? Job, string? Mode, string? RestorePoint, string? Sr, bool Yes, bool DryRun);

    public static void Map(WebApplication app, Actors.ClusterKey key)
    {
        SeedApi.Map(app, key);
        OfflineSeedApi.Map(app);
        FailoverTestApi.Map(app);
        PlannedFailoverApi.Map(app);
        FailbackApi.Map(app);
        app.MapPost("/api/failover", async (FailoverRequest request, ActorRegistry registry, CancellationToken ct) =>
        {
            if (request.Mode is not ("copy" or "force"))
            {
                return Results.BadRequest(
                    new { error = "mode: \"copy\" (start a clone, the replica stays) or \"force\" (start the replica)" });
            }

            if (request.Mode == "force" && !request.Yes && !request.DryRun)
            {
                return Results.BadRequest(new
                {
                    error = "yes: a forced start takes the replica out of its chain (the next run makes a new replica from the "
                        + "newest restore point); confirm with \"yes\": true (xcr failover start --force --yes)",
                });
            }

            if (request.Job is not null)
            {
                return request.Vm is null ? await JobFailover.StartAsync(request, registry, ct)
                    : Results.BadRequest(new { error = "give the uuid of one VM or a job, not both" });
            }

            if (request.Vm is null)
            {
                return Results.BadRequest(new { error = "vm: the uuid of the VM to fail over (or job: every VM of a job)" });
            }

            var state = await KnownVmStateAsync(registry, request.Vm);
            var (chain, error) = Recoveries.ChainOf(state, request.Vm, request.Sr, request.RestorePoint);
            if (chain is null)
            {
                return Results.NotFound(new { error });
            }

            var started = DateTimeOffset.UtcNow;
            var step = new StartReplica(request.Vm, chain.Key.SrUuid.Value, request.Mode == "force", request.RestorePoint,
                chain.Key.JobId.Value)
            {
                DryRun = request.DryRun, Newest = chain.RestorePoints.LastOrDefault()?.Uuid,
            };
            var outcome = await Recoveries.StepAsync(registry, chain.Pool, step, ct);
            if (Recoveries.Refused(outcome))
            {
                return Recoveries.Refusal(outcome);
            }

            var kind = request.Mode == "force" ? RecoveryKind.FailoverForce : RecoveryKind.FailoverCopy;
            var record = new RecoveryRecord(Recoveries.NewId(started), kind, chain.Key.JobId.Value, started, DateTimeOffset.UtcNow,
                [outcome]);
            return request.DryRun ? Results.Json(Recoveries.Body(record)) : await Recoveries.RecordAsync(registry, record);
        });
    }
}
