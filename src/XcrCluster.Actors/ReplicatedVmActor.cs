using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Streams;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>
/// The sharded persistent entity of one source VM. It only persists what <see cref="ReplicatedVmState"/>
/// decides, replies, and starts the run — long work that runs outside the actor and comes back as a message.
/// Before a run starts, what its target SRs hold is read (<see cref="IChainReader"/>, off the actor) and the chains are
/// reconciled with it; a failed read is a warning and the run goes on. After a recovery a run that was going is
/// recorded as interrupted, and the next queued run starts. A held request (the job's concurrency) waits for its run's
/// coordinator (<see cref="RunCoordinator"/>), which is told when the VM's part ends; one whose coordinator says nothing for
/// <see cref="DefaultHoldLease"/> is dropped (<see cref="ReplicatedVmState.Drop"/>).
/// </summary>
public sealed partial class ReplicatedVmActor : BoundedJournalActor, IWithTimers
{
    /// <summary>A snapshot every this many events; older events are deleted once it is saved.</summary>
    public const int SnapshotEvery = 20;

    private readonly IRunExecutor executor;
    private readonly IChainReader? chains;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private ReplicatedVmState state;
    private CancellationTokenSource? running;
    private IMaterializer? materializer;

    private readonly RunTurns turns;

    public ReplicatedVmActor(string vmUuid, IRunExecutor executor, IChainReader? chains = null, TimeSpan? holdLease = null)
    {
        turns = new RunTurns(holdLease ?? DefaultHoldLease);
        this.executor = executor;
        this.chains = chains;
        state = new ReplicatedVmState { VmUuid = vmUuid };
        PersistenceId = $"replicated-vm-{vmUuid}";

        Recover<SnapshotOffer>(offer => state = (ReplicatedVmState)offer.Snapshot);
        Recover<IReplicatedVmEvent>(e => state = state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            StateGauges.VmState(state);
            PersistAll(state.Recovered(DateTimeOffset.UtcNow), AfterPersist);
            WatchHolds();
        });

        Command<ReplicateVm>(request =>
        {
            var (events, reply) = state.Process(request, DateTimeOffset.UtcNow);
            if (reply is RunRejected rejected)
            {
                log.Info("VM {0}: run {1} refused: {2}", request.VmUuid, request.RunId, rejected.Reason);
            }
            else if (request.Held)
            {
                turns.Heard(request.RunId, Sender);
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
        Command<ChainsRead>(read =>
        {
            var events = state.Reconcile(read.RunId, read.Observed, read.Failures, DateTimeOffset.UtcNow);
            if (events.Count == 0)
            {
                StartIfCurrent(read.RunId);
                return;
            }

            PersistAll(events, e =>
            {
                AfterPersist(e);
                if (e == events[^1])
                {
                    StartIfCurrent(read.RunId);
                }
            });
        });
        Command<Progressed>(sample =>
        {
            var events = state.Observe(sample.Progress, DateTimeOffset.UtcNow);
            if (events.Count > 0)
            {
                PersistAll(events, AfterPersist);
            }
        });
        Command<RunCompleted>(done => PersistAll(state.Finish(done.Result, DateTimeOffset.UtcNow), AfterPersist));
        Command<GetVmStatus>(_ => Sender.Tell(state));
        TurnCommands();
        PassivationCommands();
        Command<ForgetReplicas>(forget =>
        {
            var sender = Sender;
            Persist(new ReplicasForgotten(forget.VmUuid, forget.SrUuid, DateTimeOffset.UtcNow), e =>
            {
                AfterPersist(e);
                sender.Tell(new ReplicasForgottenReply(e.VmUuid, e.SrUuid));
            });
        });
        DeleteWhatSnapshotsCover($"VM {vmUuid}");
    }

    public override string PersistenceId { get; }

    public static Props Props(string vmUuid, IRunExecutor executor, IChainReader? chains = null, TimeSpan? holdLease = null)
        => Akka.Actor.Props.Create(() => new ReplicatedVmActor(vmUuid, executor, chains, holdLease));

    protected override void PostStop()
    {
        running?.Cancel();
        if (!passivated)
        {
            StateGauges.VmGone(state.VmUuid);
        }

        base.PostStop();
    }

    private void AfterPersist(IReplicatedVmEvent e)
    {
        state = state.Apply(e);
        StateGauges.VmState(state);
        if (e is RunStarted started)
        {
            Reconcile(started.Request);
        }

        if (e is RunQueued { Request.Held: true })
        {
            WatchHolds();
        }

        if (e switch { RunFinished f => f.Result.RunId, RunInterrupted i => i.RunId, HeldRunDropped d => d.RunId, _ => null } is { } ended)
        {
            turns.Ended(state.VmUuid, ended, state.StatusOf(ended));
            if (e is not RunFinished && state.History.LastOrDefault(h => h.RunId == ended) is { } record)
            {
                // No executor saw this run end: the entity logs (same ids as RunLogging's lines) and counts it.
                log.Warning("run {0} of job {1}: VM {2} ended {3}: {4}", ended, record.JobId, state.VmUuid, record.Result.Status.Name(),
                    record.Result.Error);
                RunMetrics.EndedUnrun(record.Result.Status);
            }
        }

        SnapshotOnEvery(SnapshotEvery, state);
    }

    /// <summary>Reads the run's target SRs off the actor; the reads come back as <see cref="ChainsRead"/>, and the run starts
    /// once the chains are reconciled with them.</summary>
    private void Reconcile(ReplicateVm request)
    {
        if (chains is null)
        {
            Start(request);
            return;
        }

        var known = state.Chains.Where(c => c.ReplicaVmUuid is not null && request.Targets.Any(t => t.SrUuid == c.Key.SrUuid.Value))
            .Select(c => c.ReplicaVmUuid!).Distinct().ToList();
        chains.ReadAsync(request, known).PipeTo(Self, success: r => new ChainsRead(request.RunId, r.Observed, r.Failures),
            failure: e => new ChainsRead(request.RunId, [],
                [.. request.Targets.Select(t => new SrReadFailure(t.Pool, t.SrUuid, e.GetBaseException().Message))]));
    }

    private void StartIfCurrent(string runId)
    {
        if (state.Current is { } current && current.RunId == runId)
        {
            Start(current);
        }
    }

    /// <summary>Runs the replication off the actor; its result comes back as <see cref="RunCompleted"/>.</summary>
    private void Start(ReplicateVm request)
    {
        running?.Dispose();
        running = request.Settings.Timeout is { } timeout ? new CancellationTokenSource(timeout) : new CancellationTokenSource();
        var token = running.Token;
        // The entity's own materializer: a run's streams are its children and stop with it (passivation, node leaving).
        materializer ??= Context.Materializer();
        var self = Self;
        executor.ExecuteAsync(request, materializer, token, sample => self.Tell(new Progressed(sample))).ContinueWith(
            t => new RunCompleted(t.IsCompletedSuccessfully ? t.Result
                : Failed(request, t.Exception?.GetBaseException().Message ?? "cancelled")),
            TaskScheduler.Default).PipeTo(Self);
    }

    private static RunResult Failed(ReplicateVm request, string error) => new(request.RunId, RunStatus.Failed, error, false, null, [], []);

    /// <summary>Internal: a progress sample of the running run (its milestones are persisted).</summary>
    public sealed record Progressed(RunProgress Progress);

    /// <summary>Internal: the run's outcome, piped back to the entity.</summary>
    public sealed record RunCompleted(RunResult Result);

    /// <summary>Internal: what the run's target SRs hold, read before it starts.</summary>
    public sealed record ChainsRead(string RunId, IReadOnlyList<SrObservation> Observed, IReadOnlyList<SrReadFailure> Failures);
}
