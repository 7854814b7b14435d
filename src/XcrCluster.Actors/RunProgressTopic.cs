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

    /// <summary>The engine's reports of one VM's run, stamped with the run and published.</summary>
    public sealed class Reporter(ReplicateVm request, Action<IRunProgressMessage> publish, TimeProvider? time = null) : IProgress<TransferProgress>
    {
        private readonly TimeProvider clock = time ?? TimeProvider.System;

        public void Report(TransferProgress value) => publish(new RunProgress(request.RunId, request.Job.JobId, request.VmUuid, value.Disk, value.DiskName, value.Sr,
            value.Bytes, value.Total, value.Phase, clock.GetUtcNow()));
    }
}
