using Akka.Actor;
using XcrCluster.DataChannel;
using XcrCluster.Domain.Pools;
using XcrCluster.Replication;

namespace XcrCluster.Actors;

/// <summary>Decides where a run's target work happens: here, over this node's own XAPI session, when the target
/// pool's agent runs on this node; else on the agent's node, with the blocks sent over the data channel.</summary>
public interface IRemoteTargets
{
    /// <summary>A target on another node, or null when the pool's agent is on this node.</summary>
    Task<ITargetSpec?> TryRemoteAsync(string pool, string srUuid, CancellationToken ct);
}

public sealed class AgentTargets(Func<Task<IActorRef>> poolAgents, Func<string> selfAddress, IPoolGate gate, IChannelTransport transport,
    ChannelSendOptions? send = null) : IRemoteTargets
{
    /// <summary>A clone, a VM creation or a snapshot on a busy pool can take minutes; an agent that is gone fails sooner via the channel.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    public async Task<ITargetSpec?> TryRemoteAsync(string pool, string srUuid, CancellationToken ct)
    {
        var agents = await poolAgents().ConfigureAwait(false);
        var load = await agents.Ask<PoolLoad>(new GetPoolLoad(pool), TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        return load.Node == selfAddress() ? null : new AgentTargetSpec(pool, srUuid, agents, gate, transport, StepTimeout,
            send ?? ChannelSendOptions.Default);
    }
}
