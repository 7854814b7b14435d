using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>`xcr failback`: the blocks a started replica changed sent back to the original pool (<see cref="ReverseDelta"/>
/// on the replica pool's agent, which opens a session to the source pool too, when one node serves both pools; else on the
/// source pool's agent, the replica pool's agent on its own node reading the replica and sending the deltas over the data
/// channel: each pool's XAPI reached only from the node serving it); with <c>resume</c>, then the original's start unblocked
/// so the job replicates it again (the started replica is left as it is).</summary>
public static class FailbackApi
{
    public sealed record FailbackRequest(string? Vm, bool Resume);

    public static void Map(WebApplication app)
    {
        app.MapPost("/api/failback", async (FailbackRequest request, ActorRegistry registry) =>
        {
            if (request.Vm is not { } vm)
            {
                return Results.BadRequest(new { error = "vm: the uuid of the VM to fail back" });
            }

            var known = await ControlAsync<Known>(registry, new GetKnown());
            var state = await KnownVmStateAsync(registry, vm);
            var job = JobCoverage.Covering((await ControlAsync<JobList>(registry, new GetJobs())).Jobs, known.Runs, vm).FirstOrDefault();
            if (state is null || job is null)
            {
                return Results.NotFound(new { error = $"VM {vm}: no job replicates it: nothing to fail back from" });
            }

            var started = DateTimeOffset.UtcNow;
            RecoveryVmOutcome? outcome = null;
            var refusals = new List<string>();
            foreach (var pool in state.Chains.Select(c => c.Pool).Distinct(StringComparer.Ordinal))
            {
                outcome = await SameNodeAsync(registry, pool, job.SourcePool)
                    ? await Recoveries.StepAsync(registry, pool, new ReverseDelta(vm, job.SourcePool, request.Resume))
                    : await Recoveries.StepAsync(registry, job.SourcePool, new ReverseDelta(vm, job.SourcePool, request.Resume, pool));
                var noReplica = outcome.Error?.StartsWith($"pool {pool} has no started replica", StringComparison.Ordinal) == true;
                if (!Recoveries.Refused(outcome) || !noReplica)
                {
                    break;
                }

                refusals.Add(outcome.Error!);
                outcome = null;
            }

            if (outcome is null)
            {
                var reason = refusals.Count == 0 ? "no replica is known" : string.Join("; ", refusals);
                return Results.Conflict(new { error = $"VM {vm}: {reason}" });
            }

            if (Recoveries.Refused(outcome))
            {
                return Recoveries.Refusal(outcome);
            }

            if (request.Resume && outcome.Status == RunStatus.Success)
            {
                var resume = await Recoveries.StepAsync(registry, job.SourcePool, new BlockSourceStart(vm, false, "", null, null, null));
                outcome = resume.Status == RunStatus.Success ? outcome with { Log = [.. outcome.Log, .. resume.Log] }
                    : RecoveryVmOutcome.Failed(vm, $"failed back, but the original's start could not be unblocked: {resume.Error}",
                        [.. outcome.Log, .. resume.Log]) with { ResultVmUuid = outcome.ResultVmUuid, Details = outcome.Details };
            }

            var record = new RecoveryRecord(Recoveries.NewId(started), RecoveryKind.Failback, job.Id, started, DateTimeOffset.UtcNow,
                [outcome]);
            return await Recoveries.RecordAsync(registry, record);
        });
    }

    /// <summary>Whether one node runs the agents of both pools.</summary>
    private static async Task<bool> SameNodeAsync(ActorRegistry registry, string replicaPool, string sourcePool)
    {
        var agents = await registry.GetAsync<PoolAgents>();
        var replica = await AskPartAsync<PoolLoad>(agents, new GetPoolLoad(replicaPool), $"the agent of pool {replicaPool}");
        var source = await AskPartAsync<PoolLoad>(agents, new GetPoolLoad(sourcePool), $"the agent of pool {sourcePool}");
        return replica.Node == source.Node;
    }
}
