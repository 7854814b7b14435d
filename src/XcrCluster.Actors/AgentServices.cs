using Akka.Streams;
using XcrCluster.DataChannel;
using XcrCluster.Domain.Control;
using XcrCluster.Replication;
using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>What a node lends its pool agents: pool endpoints (credentials unsealed here, at connection time) and its
/// data channel receiver for target work; for source work (<see cref="SourceSessionActor"/>) the pools' slots, the
/// targets on other nodes, and the registry of the runs going here (cancelled when the node stops).</summary>
public sealed record AgentServices(IPoolRegistry Pools, Func<Task<ChannelReceiver>> Receiver)
{
    public IPoolGate? Gate { get; init; }

    public IRemoteTargets? Remote { get; init; }

    /// <summary>The node's pool agents (a failback on this node asks the replica pool's agent on another) and its data
    /// channel transport (that agent sends the failback's blocks with it).</summary>
    public Func<Task<Akka.Actor.IActorRef>>? PoolAgents { get; init; }

    public IChannelTransport? Transport { get; init; }

    public RunRegistry Running { get; init; } = new();

    /// <summary>The live mirrors of the pools this node serves: every session, inventory, purge and recovery step of the
    /// node reads records through them; null: each reads its pool directly.</summary>
    public PoolMirrors? Mirrors { get; init; }

    /// <summary>The export rate limits of the runs whose VMs export here, one per job run (maxExportRate).</summary>
    public RunThrottles Throttles { get; init; } = new();

    /// <summary>A registration's endpoint, its password unsealed with the cluster key (the login a registration checks on a
    /// node serving the pool); null: this node checks no login.</summary>
    public Func<PoolRegistration, XapiEndpoint>? Unseal { get; init; }

    /// <summary>Where source sessions run their streams: one for the node, outliving every session (a session that stops
    /// cancels its attempt, whose streams then end through the cancellation and undo what they made — cut off under it, a
    /// channel sender's end would never be awaited). Made by <see cref="PoolAgentsActor"/> when not given.</summary>
    public IMaterializer? Materializer { get; init; }
}
