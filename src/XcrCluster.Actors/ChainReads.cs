using Akka.Actor;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication;
using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>Reads what a run's target SRs hold for its VM, for the entity to reconcile its chains with before the run.</summary>
public interface IChainReader
{
    /// <summary>One observation per target SR read, one failure per SR that could not be; never throws.</summary>
    Task<(IReadOnlyList<SrObservation> Observed, IReadOnlyList<SrReadFailure> Failures)> ReadAsync(ReplicateVm request,
        IReadOnlyList<string> knownReplicas);
}

/// <summary>The reads go to each target pool's agent (<see cref="GetSrReplicas"/>), so a pool's XAPI session is opened
/// only on a node that serves it; all SRs at once, each bounded by <paramref name="timeout"/> (the agent bounds its read
/// by <see cref="PoolAgentActor.InventoryTimeout"/>, less, so the reason arrives before the ask gives up).</summary>
public sealed class AgentChainReader(Func<Task<IActorRef>> poolAgents, TimeSpan? timeout = null) : IChainReader
{
    private readonly TimeSpan timeout = timeout ?? TimeSpan.FromSeconds(30);

    public async Task<(IReadOnlyList<SrObservation> Observed, IReadOnlyList<SrReadFailure> Failures)> ReadAsync(ReplicateVm request,
        IReadOnlyList<string> knownReplicas)
    {
        var replies = await Task.WhenAll(request.Targets.Select(t => AskAsync(t, request.VmUuid, knownReplicas))).ConfigureAwait(false);
        return ([.. replies.OfType<SrReplicas>().Select(r => r.Observation)],
            [.. replies.OfType<SrReplicasFailed>().Select(f => new SrReadFailure(f.Pool, f.SrUuid, f.Reason))]);
    }

    private async Task<IPoolAgentMessage> AskAsync(TargetRef target, string vm, IReadOnlyList<string> known)
    {
        try
        {
            var agents = await poolAgents().ConfigureAwait(false);
            return await agents.Ask<IPoolAgentMessage>(new GetSrReplicas(target.Pool, target.SrUuid, vm, known), timeout)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return new SrReplicasFailed(target.Pool, target.SrUuid,
                $"pool {target.Pool}'s agent did not answer within {timeout.TotalSeconds:F0} s");
        }
        catch (Exception e)
        {
            return new SrReplicasFailed(target.Pool, target.SrUuid, e.Message);
        }
    }
}

/// <summary>The agent's side of <see cref="GetSrReplicas"/>.</summary>
internal static class ChainReads
{
    /// <summary>What an SR holds for a VM (<see cref="SrReplicaRead"/>), off the agent on a session of its own, bounded like an
    /// inventory read.</summary>
    public static async Task<SrReplicas> ReadSrAsync(GetSrReplicas get, AgentServices services)
    {
        using var deadline = new CancellationTokenSource(PoolAgentActor.InventoryTimeout);
        try
        {
            var pool = await PoolMirrors.OpenAsync(services.Pools, get.Pool, services.Mirrors, null, deadline.Token).ConfigureAwait(false);
            await using var client = pool.Client;
            return new SrReplicas(get.Pool, await SrReplicaRead.ReadAsync(pool, get.Pool, get.SrUuid,
                get.VmUuid, get.KnownReplicas, deadline.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {PoolAgentActor.InventoryTimeout.TotalSeconds:F0} s");
        }
    }
}
