using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Recovery;
using XcrCluster.Replication;
using XcrCluster.Replication.Recovery;
using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>The agent's side of <see cref="RunRecoveryStep"/>: the step on a session of its own to the pool, off the agent,
/// bounded by <see cref="Timeout"/>; whatever ends it, the asker gets an outcome.</summary>
public static class AgentRecovery
{
    /// <summary>The longest one VM's step may take (an offline seed moves whole disks); the asker waits a little longer.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromHours(12);

    public static async Task<RecoveryStepDone> RunAsync(RunRecoveryStep run, AgentServices services)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            // A login given with the step (xcr seed's URL credentials, sealed with the cluster key) instead of the registered one.
            // (A pool's mirror serves its registered login only.)
            var pool = run.Login is { } login
                ? new Pool(await XapiClient.ConnectAsync((services.Unseal ?? throw new InvalidOperationException(
                    "this node cannot unseal a login"))(login), ct: deadline.Token).ConfigureAwait(false))
                    { Name = run.Pool, Gate = services.Gate ?? OpenGate.Instance }
                : await PoolMirrors.OpenAsync(services.Pools, run.Pool, services.Mirrors, services.Gate, deadline.Token)
                    .ConfigureAwait(false);
            await using var client = pool.Client;
            var outcome = await (run.Step is ReverseDelta reverse ? ReverseAsync(pool, reverse, services, deadline.Token)
                : StepAsync(pool, run.Step, deadline.Token)).WaitAsync(deadline.Token).ConfigureAwait(false);
            return new RecoveryStepDone(run.Pool, outcome);
        }
        catch (Exception e)
        {
            var reason = deadline.IsCancellationRequested ? $"the step took longer than {Timeout.TotalHours:F0} h"
                : $"pool {run.Pool}: {ErrorText.Of(e)}";
            return new RecoveryStepDone(run.Pool, RecoveryVmOutcome.Failed(run.Step.Vm, reason));
        }
    }

    /// <summary>A failback runs on the replica's pool's agent with a session to the source pool as well when this node serves
    /// both; else (<see cref="ReverseDelta.ReplicaPool"/> set) on the source pool's agent, the replica's pool read by its
    /// agent on the node serving it and the deltas received over this node's data channel.</summary>
    private static async Task<RecoveryVmOutcome> ReverseAsync(Pool pool, ReverseDelta step, AgentServices services,
        CancellationToken ct)
    {
        if (step.ReplicaPool is { } replicaPool)
        {
            var agents = await (services.PoolAgents ?? throw new InvalidOperationException("this node cannot reach other pool agents"))()
                .ConfigureAwait(false);
            var remote = new RemoteFailbackReplica(replicaPool, agents, await services.Receiver().ConfigureAwait(false));
            return await Failback.RunAsync(remote, pool, step, ct).ConfigureAwait(false);
        }

        var sourcePool = await PoolMirrors.OpenAsync(services.Pools, step.SourcePool, services.Mirrors, services.Gate, ct)
            .ConfigureAwait(false);
        await using var client = sourcePool.Client;
        return await Failback.RunAsync(new PoolFailbackReplica(pool), sourcePool, step, ct).ConfigureAwait(false);
    }

    private static Task<RecoveryVmOutcome> StepAsync(Pool pool, IRecoveryStep step, CancellationToken ct) => step switch
    {
        StartReplica start => Failover.StartAsync(pool, start, ct),
        ReadSeedSide read => SeedSide.ReadAsync(pool, read, ct),
        WriteSeedSource write => SeedSource.WriteAsync(pool, write, ct),
        WriteSeedTarget write => SeedTarget.WriteAsync(pool, write, ct),
        UndoSeedSource undo => SeedSide.UndoSourceAsync(pool, undo),
        SeedExport export => OfflineSeedExport.RunAsync(pool, export, ct),
        SeedImport import => OfflineSeedImport.RunAsync(pool, import, ct),
        TestReplica test => FailoverTest.RunAsync(pool, test, ct),
        SourcePower power => PlannedFailover.PowerAsync(pool, power, ct),
        BlockSourceStart block => PlannedFailover.BlockAsync(pool, block, ct),
        _ => throw new NotSupportedException($"no recovery step {step.GetType().Name}"),
    };
}
