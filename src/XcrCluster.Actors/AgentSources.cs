using Akka.Actor;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Where an attempt of a run goes: to the source pool's agent, whose node runs it.</summary>
public interface ISourceRuns
{
    /// <summary>Runs the attempt where the source pool is served; <paramref name="progress"/> gets its samples in order.</summary>
    Task<RunResult> RunAsync(ReplicateVm request, Action<IRunProgressMessage> progress, CancellationToken ct);
}

/// <summary>Sends each attempt to the source pool's agent (<see cref="SourceSessionActor"/> on the node serving that
/// pool) and waits for it, watching the session: the executor orchestrates, no disk byte and no XAPI session of the
/// pools is on its node. A cancelled attempt is told to cancel and given <see cref="CancelGrace"/> to say it cleaned up.</summary>
public sealed class AgentSources(Func<Task<IActorRef>> poolAgents, Func<ActorSystem> system) : ISourceRuns
{
    /// <summary>How long the agent may take to start the session (no node serving the pool: the proxy buffers the request).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the attempt is sent again until a session says it started: a message to an agent that is
    /// handing over (its node leaving) is lost; the agent takes each session once (<see cref="SourceAdmission"/>).</summary>
    public static readonly TimeSpan ResendInterval = TimeSpan.FromSeconds(5);

    public TimeSpan CancelGrace { get; init; } = TimeSpan.FromSeconds(60);

    public async Task<RunResult> RunAsync(ReplicateVm request, Action<IRunProgressMessage> progress, CancellationToken ct)
    {
        var agents = await poolAgents().ConfigureAwait(false);
        var done = new TaskCompletionSource<RunResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = new RunSource(request.SourcePool, $"{request.RunId}/{request.VmUuid}/{Guid.NewGuid():N}", request);
        var watcher = system().ActorOf(Props.Create(() => new SourceRunWatcher(agents, run, done, progress, StartTimeout, CancelGrace)));
        await using var cancelling = ct.Register(() => watcher.Tell(SourceRunWatcher.Cancel.Instance)).ConfigureAwait(false);
        return await done.Task.ConfigureAwait(false);
    }
}

/// <summary>One attempt seen from the orchestrating node: asks the agent, watches the session, passes its progress on,
/// and completes with its result — or with a failure when the session's node goes away or it cannot start.</summary>
internal sealed class SourceRunWatcher : ReceiveActor, IWithTimers
{
    private readonly RunSource run;
    private readonly TaskCompletionSource<RunResult> done;
    private readonly TimeSpan cancelGrace;
    private IActorRef? session;
    private bool cancelled;

    public SourceRunWatcher(IActorRef agents, RunSource run, TaskCompletionSource<RunResult> done, Action<IRunProgressMessage> progress,
        TimeSpan startTimeout, TimeSpan cancelGrace)
    {
        this.run = run;
        this.done = done;
        this.cancelGrace = cancelGrace;
        agents.Tell(run);
        Receive<Resend>(_ => agents.Tell(run));
        Receive<SourceStarted>(_ =>
        {
            session = Sender;
            Context.Watch(session);
            Timers.Cancel("start");
            Timers.Cancel("resend");
            if (cancelled)
            {
                session.Tell(new CancelSource(run.Pool, run.Session));
            }
        });
        Receive<IRunProgressMessage>(progress);
        Receive<SourceFinished>(finished => End(finished.Result));
        Receive<Cancel>(_ =>
        {
            cancelled = true;
            session?.Tell(new CancelSource(run.Pool, run.Session));
            Timers.StartSingleTimer("grace", Grace.Instance, cancelGrace);
        });
        Receive<Grace>(_ => End(LocalRun.Failed(run.Request,
            $"cancelled; pool {run.Pool}'s agent did not confirm its cleanup within {cancelGrace.TotalSeconds:F0} s "
            + "(the next run removes what is left)")));
        Receive<StartTimedOut>(_ => End(LocalRun.Failed(run.Request,
            $"pool {run.Pool}'s agent did not take the run within {startTimeout.TotalSeconds:F0} s (is a node serving the pool up?)")));
        Receive<Terminated>(_ => End(LocalRun.Failed(run.Request,
            $"pool {run.Pool}'s agent stopped during the run (its node left or the agent moved): the next run removes what it left")));
        Timers.StartSingleTimer("start", StartTimedOut.Instance, startTimeout);
        Timers.StartPeriodicTimer("resend", Resend.Instance, AgentSources.ResendInterval);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PostStop() => done.TrySetResult(LocalRun.Failed(run.Request, "the run's orchestrator stopped"));

    private void End(RunResult result)
    {
        done.TrySetResult(result);
        Context.Stop(Self);
    }

    internal sealed class Cancel
    {
        public static readonly Cancel Instance = new();
    }

    private sealed class Grace
    {
        public static readonly Grace Instance = new();
    }

    private sealed class StartTimedOut
    {
        public static readonly StartTimedOut Instance = new();
    }

    private sealed class Resend
    {
        public static readonly Resend Instance = new();
    }
}
