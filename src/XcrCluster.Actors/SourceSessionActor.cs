using Akka.Actor;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>
/// One attempt of a run on the node serving its source pool, under that pool's agent (the mirror of
/// <see cref="TargetSessionActor"/>): it opens the source pool's XAPI session here, checks the VM, blocks migration,
/// snapshots, exports each disk once and streams its blocks to every target (the local import when the target pool's
/// agent runs here, the data channel otherwise), and answers with the result. The orchestrator (the VM entity's
/// executor, on a control node) only asks and waits: it watches this session, and this session watches it back — an
/// orchestrator gone (its node died) cancels the attempt, which then removes what it made.
/// </summary>
public sealed class SourceSessionActor : ReceiveActor
{
    private readonly CancellationTokenSource cancel = new();
    private IActorRef? orchestrator;
    private string vmUuid = "";

    public SourceSessionActor(string pool, AgentServices services)
    {
        Receive<RunSource>(run =>
        {
            vmUuid = run.Request.VmUuid;
            orchestrator = Sender;
            Context.Watch(orchestrator);
            orchestrator.Tell(new SourceStarted(pool, run.Session));
            var self = Self;
            var request = run.Request;
            var materializer = services.Materializer ?? throw new InvalidOperationException("the agents' services have no materializer");
            var reporter = new RunProgressTopic.Reporter(p => self.Tell(p));
            services.Running.TrackAsync(request.RunId,
                    token => new LocalRun(services.Pools, services.Gate, services.Remote)
                        {
                            Throttles = services.Throttles, Mirrors = services.Mirrors,
                        }
                        .RunAsync(request, materializer, reporter, token),
                    cancel.Token)
                .ContinueWith(t =>
                {
                    return new SourceFinished(pool, run.Session, t.IsCompletedSuccessfully ? t.Result
                        : LocalRun.Failed(request, t.Exception?.GetBaseException().Message ?? "cancelled"));
                }, TaskScheduler.Default)
                .PipeTo(self);
        });

        // Progress and the result go back through this actor, so the orchestrator sees them in order.
        Receive<IRunProgressMessage>(progress => orchestrator?.Tell(progress));
        Receive<SourceFinished>(finished =>
        {
            Context.Parent.Tell(new Ended(vmUuid));
            orchestrator?.Tell(finished);
            Context.Stop(Self);
        });
        Receive<CancelSource>(_ => cancel.Cancel());
        Receive<Terminated>(_ => cancel.Cancel());
    }

    /// <summary>Told to the agent before the orchestrator hears the result: the VM may run again.</summary>
    public sealed record Ended(string VmUuid);

    public static Props Props(string pool, AgentServices services)
        => Akka.Actor.Props.Create(() => new SourceSessionActor(pool, services));

    protected override void PostStop()
    {
        // An attempt still going when its session stops (the agent moved, the node is stopping) is cancelled: it cleans up
        // on the pools in the background (the node's shutdown waits for it, RunRegistry).
        cancel.Cancel();
    }
}
