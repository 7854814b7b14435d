using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Streams;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>
/// The sharded persistent entity of one source VM. It only persists what <see cref="ReplicatedVmState"/>
/// decides, replies, and starts the run — long work that runs outside the actor and comes back as a message.
/// After a recovery a run that was going is recorded as interrupted, and the next queued run starts.
/// </summary>
public sealed class ReplicatedVmActor : BoundedJournalActor
{
    /// <summary>A snapshot every this many events; older events are deleted once it is saved.</summary>
    public const int SnapshotEvery = 20;

    private readonly IRunExecutor executor;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private ReplicatedVmState state;
    private CancellationTokenSource? running;
    private IMaterializer? materializer;

    public ReplicatedVmActor(string vmUuid, IRunExecutor executor)
    {
        this.executor = executor;
        state = new ReplicatedVmState { VmUuid = vmUuid };
        PersistenceId = $"replicated-vm-{vmUuid}";

        Recover<SnapshotOffer>(offer => state = (ReplicatedVmState)offer.Snapshot);
        Recover<IReplicatedVmEvent>(e => state = state.Apply(e));
        Recover<RecoveryCompleted>(_ => PersistAll(state.Recovered(DateTimeOffset.UtcNow), AfterPersist));

        Command<ReplicateVm>(request =>
        {
            var (events, reply) = state.Process(request, DateTimeOffset.UtcNow);
            if (reply is RunRejected rejected)
            {
                log.Info("VM {0}: run {1} refused: {2}", request.VmUuid, request.RunId, rejected.Reason);
            }

            if (events.Count == 0)
            {
                Sender.Tell(reply);
                return;
            }

            var sender = Sender;
            PersistAll(events, e =>
            {
                AfterPersist(e);
                if (e == events[^1])
                {
                    sender.Tell(reply);
                }
            });
        });
        Command<RunCompleted>(done => PersistAll(state.Finish(done.Result, DateTimeOffset.UtcNow), AfterPersist));
        Command<GetVmStatus>(_ => Sender.Tell(state));
        Command<ForgetReplicas>(forget =>
        {
            var sender = Sender;
            Persist(new ReplicasForgotten(forget.VmUuid, forget.SrUuid, DateTimeOffset.UtcNow), e =>
            {
                AfterPersist(e);
                sender.Tell(e);
            });
        });
        DeleteWhatSnapshotsCover($"VM {vmUuid}");
    }

    public override string PersistenceId { get; }

    public static Props Props(string vmUuid, IRunExecutor executor)
        => Akka.Actor.Props.Create(() => new ReplicatedVmActor(vmUuid, executor));

    protected override void PostStop()
    {
        running?.Cancel();
        base.PostStop();
    }

    private void AfterPersist(IReplicatedVmEvent e)
    {
        state = state.Apply(e);
        if (e is RunStarted started)
        {
            Start(started.Request);
        }

        SnapshotOnEvery(SnapshotEvery, state);
    }

    /// <summary>Runs the replication off the actor; its result comes back as <see cref="RunCompleted"/>.</summary>
    private void Start(ReplicateVm request)
    {
        running?.Dispose();
        running = request.Settings.Timeout is { } timeout ? new CancellationTokenSource(timeout) : new CancellationTokenSource();
        var token = running.Token;
        // The entity's own materializer: a run's streams are its children and stop with it (passivation, node leaving).
        materializer ??= Context.Materializer();
        executor.ExecuteAsync(request, materializer, token).ContinueWith(
            t => new RunCompleted(t.IsCompletedSuccessfully ? t.Result
                : Failed(request, t.Exception?.GetBaseException().Message ?? "cancelled")),
            TaskScheduler.Default).PipeTo(Self);
    }

    private static RunResult Failed(ReplicateVm request, string error) => new(request.RunId, "failure", error, false, null, [], []);

    /// <summary>Internal: the run's outcome, piped back to the entity.</summary>
    public sealed record RunCompleted(RunResult Result);
}
