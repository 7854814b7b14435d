using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;

namespace XcrCluster.Actors;

/// <summary>
/// The <c>replicated-vm</c> region's allocation: a new shard goes where Akka's least-shard strategy puts it, and a
/// shard never moves to balance the cluster. Moving a shard stops its entities, and a replication going on in one
/// ends as "interrupted" (the entity cannot carry a run across nodes), so a control node that joins would cut the
/// runs of the VMs it takes over; it gets new shards instead. Shards still move when their node leaves.
/// </summary>
public sealed class NoRebalanceAllocationStrategy(IShardAllocationStrategy allocation) : IActorSystemDependentAllocationStrategy
{
    public NoRebalanceAllocationStrategy()
        : this(ShardAllocationStrategy.LeastShardAllocationStrategy(0, 0.1))
    {
    }

    public void Start(ActorSystem system) => (allocation as IActorSystemDependentAllocationStrategy)?.Start(system);

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId,
        IImmutableDictionary<IActorRef, IImmutableList<string>> allocations)
        => allocation.AllocateShard(requester, shardId, allocations);

    public Task<IImmutableSet<string>> Rebalance(
        IImmutableDictionary<IActorRef, IImmutableList<string>> allocations, IImmutableSet<string> inProgress)
        => Task.FromResult<IImmutableSet<string>>(ImmutableHashSet<string>.Empty);
}
