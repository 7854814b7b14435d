using Akka.Cluster.Sharding;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Routes ReplicatedVm messages by VM uuid. The shard count is part of the persisted layout: it
/// never changes.</summary>
public sealed class ReplicatedVmMessageExtractor() : HashCodeMessageExtractor(ShardCount)
{
    public const int ShardCount = 50;

    public const string RegionName = "replicated-vm";

    public override string? EntityId(object message) => message switch
    {
        IReplicatedVmMessage m => m.VmUuid,
        _ => null,
    };
}

/// <summary>Marker type for the region in Akka.Hosting's registry.</summary>
public sealed class ReplicatedVmRegion
{
}
