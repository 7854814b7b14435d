using Akka.Hosting;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>`xcr failover test`: per VM, a clone of its newest restore point started on an isolated network (or none) on
/// the replica's pool, waited on until its guest answers, and destroyed (<see cref="Replication.Recovery.FailoverTest"/>);
/// one VM or every VM of a job (a VM that fails does not stop the others), kept as a failover-test record.</summary>
public static class FailoverTestApi
{
    /// <summary><c>network</c>: an isolated network of the replica's pool (none when absent); <c>timeoutSeconds</c>: how long
    /// each guest may take to answer once started.</summary>
    public sealed record FailoverTestRequest(string? Vm, string? Job, string? Network, long? TimeoutSeconds);

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The longest wait for a guest: the agent bounds a whole step by <see cref="Actors.AgentRecovery.Timeout"/>.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(6);

    /// <summary>How many VMs of a job are tested at once (each starts a VM on the replica's pool).</summary>
    private const int Parallel = 4;

    public static void Map(WebApplication app)
    {
        app.MapPost("/api/failover/test", async (FailoverTestRequest request, ActorRegistry registry, CancellationToken ct) =>
        {
            if ((request.Vm is null) == (request.Job is null))
            {
                return Results.BadRequest(new { error = "give vm (the uuid of one VM) or job (every VM of a job)" });
            }

            var timeout = request.TimeoutSeconds ?? (long)DefaultTimeout.TotalSeconds;
            if (timeout < 1 || timeout > MaxTimeout.TotalSeconds)
            {
                return Results.BadRequest(new { error = $"timeoutSeconds: from 1 to {MaxTimeout.TotalSeconds:F0}" });
            }

            var started = DateTimeOffset.UtcNow;
            if (request.Vm is { } vm)
            {
                var (chain, error) = Recoveries.ChainOf(await KnownVmStateAsync(registry, vm), vm, null, null);
                if (chain is null)
                {
                    return Results.NotFound(new { error });
                }

                var outcome = await Recoveries.StepAsync(registry, chain.Pool, Step(vm, chain, request.Network, timeout), ct);
                return Recoveries.Refused(outcome) ? Recoveries.Refusal(outcome)
                    : await Recoveries.RecordAsync(registry, new RecoveryRecord(Recoveries.NewId(started), RecoveryKind.FailoverTest,
                        chain.Key.JobId.Value, started, DateTimeOffset.UtcNow, [outcome]));
            }

            var jobId = request.Job!;
            if (await JobAsync(registry, jobId) is not { } job)
            {
                return Results.NotFound(new { error = $"no job {jobId} (xcr job list)" });
            }

            var states = (await VmStatesAsync(registry, jobId)).ToDictionary(s => s.Vm, s => s.State);
            var vms = job.Vms.Concat(states.Keys).Distinct().ToList();
            if (vms.Count == 0)
            {
                return Results.BadRequest(new { error = $"job {jobId} has no VM to test" });
            }

            var outcomes = new RecoveryVmOutcome[vms.Count];
            await System.Threading.Tasks.Parallel.ForEachAsync(Enumerable.Range(0, vms.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Parallel, CancellationToken = ct }, async (i, token) =>
                {
                    var chain = states.GetValueOrDefault(vms[i])?.Chains
                        .Where(c => c.Key.JobId.Value == jobId && c.RestorePoints.Count > 0)
                        .OrderByDescending(c => c.RestorePoints.Max(p => p.SnapshotTime)).FirstOrDefault();
                    outcomes[i] = chain is null
                        ? RecoveryVmOutcome.Failed(vms[i], $"no restore point of VM {vms[i]} made by job {jobId} is known "
                            + "(xcr replica list)")
                        : await Recoveries.StepAsync(registry, chain.Pool, Step(vms[i], chain, request.Network, timeout), token);
                });
            return await Recoveries.RecordAsync(registry, new RecoveryRecord(Recoveries.NewId(started), RecoveryKind.FailoverTest, jobId,
                started, DateTimeOffset.UtcNow, outcomes));
        });
    }

    private static TestReplica Step(string vm, ReplicaChain chain, string? network, long timeoutSeconds)
        => new(vm, chain.Key.SrUuid.Value, chain.Key.JobId.Value, network, timeoutSeconds);
}
