using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using XcrCluster.Domain.Notify;

namespace XcrCluster.Actors;

/// <summary>The cluster-wide topic of <see cref="INotice"/>s (DistributedPubSub): the scheduler publishes RPO changes, the
/// notifier singleton subscribes and delivers. At most once on the wire: a notice lost with a node is seen again by
/// whoever re-evaluates (the scheduler re-publishes a violation that is still true after it moves).</summary>
public static class NoticeTopic
{
    public const string Name = "notices";

    public static void Publish(ActorSystem system, INotice notice)
        => DistributedPubSub.Get(system).Mediator.Tell(new Publish(Name, notice));
}
