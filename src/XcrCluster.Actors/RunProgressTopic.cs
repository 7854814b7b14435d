using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication;

namespace XcrCluster.Actors;

/// <summary>The cluster-wide topic of run progress (DistributedPubSub): executors publish, HTTP listeners on any
/// node subscribe. At most once, never persisted.</summary>
public static class RunProgressTopic
{
    public const string Name = "run-progress";

    /// <summary>Publishes through this node's mediator (telling is thread-safe: called from runs off the actors).</summary>
    public static Action<IRunProgressMessage> Publisher(Func<ActorSystem> system)
    {
        var mediator = new Lazy<IActorRef>(() => DistributedPubSub.Get(system()).Mediator);
        return message => mediator.Value.Tell(new Publish(Name, message));
    }

    /// <summary>The engine's samples (already the run's own <see cref="RunProgress"/>), handed on as they come, in order.</summary>
    public sealed class Reporter(Action<IRunProgressMessage> publish) : IProgress<RunProgress>
    {
        public void Report(RunProgress value) => publish(value);
    }
}
