using Akka.Actor;
using Akka.Event;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>
/// A job run's concurrency, as Xen Orchestra's limitConcurrency(settings.concurrency): every VM's request goes to its
/// entity held (queued there, shown as queued in the run), the first N accepted VMs in the job's order are released, then
/// the next one each time a VM's part ends — its entity tells (<see cref="RunTurn"/>), and a watch every
/// <see cref="Options.WatchEvery"/> covers a lost message and keeps the held requests' leases. A VM its entity refused
/// never takes a slot; one whose entity says nothing for <see cref="Options.Silence"/>, or still going after the job's
/// timeout (a day without one) and a margin, counts as ended for the queue (logged), so the queue never waits for ever.
/// Retries stay inside the VM's slot (the entity's executor tries again). If the coordinator goes away (its node
/// stopped), the VMs already released go on, and those still held are dropped by their entities after their lease and
/// recorded as failed runs that made nothing: the job's next run replicates them.
/// </summary>
public sealed class RunCoordinator : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly IActorRef region;
    private readonly IReadOnlyList<ReplicateVm> requests;
    private readonly int concurrency;
    private readonly Options options;
    private readonly TaskCompletionSource<IReadOnlyList<JobRunner.VmStart>> started;
    private readonly Dictionary<string, Turn> vms = new(StringComparer.Ordinal);
    private bool answered;

    public RunCoordinator(IActorRef region, IReadOnlyList<ReplicateVm> requests, int concurrency, Options options,
        TaskCompletionSource<IReadOnlyList<JobRunner.VmStart>> started)
    {
        this.region = region;
        this.requests = requests;
        this.concurrency = concurrency;
        this.options = options;
        this.started = started;
        Receive<RunAccepted>(accepted => Heard(accepted.VmUuid,
            turn => turn.Stage = turn.Stage == Stage.Asked ? Stage.Waiting : turn.Stage));
        Receive<RunRejected>(rejected => Heard(rejected.VmUuid, turn =>
        {
            turn.Refusal = rejected.Reason;
            turn.Stage = Stage.Ended;
        }));
        Receive<RunTurn>(t => Heard(t.VmUuid, turn =>
        {
            // The entity does not know the run (dropped, forgotten) or its part ended: the slot is free.
            if (turn.Stage != Stage.Asked && t.Status is not ("queued" or "running"))
            {
                turn.Stage = Stage.Ended;
            }
        }));
        Receive<StartTimedOut>(_ =>
        {
            Answer();
            Release();
        });
        Receive<WatchTick>(_ => Watch());
    }

    /// <summary>How often the entities are asked, how long the start waits for their answers, how long an entity may say
    /// nothing before its VM counts as ended; a released VM's slot is kept at most for the job's timeout plus
    /// <see cref="SlotMargin"/> (a day without a timeout).</summary>
    public sealed record Options(TimeSpan WatchEvery, TimeSpan StartTimeout, TimeSpan Silence)
    {
        public static readonly Options Default = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2));

        public TimeSpan SlotMargin { get; init; } = TimeSpan.FromMinutes(5);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef region, IReadOnlyList<ReplicateVm> requests, int concurrency, Options options,
        TaskCompletionSource<IReadOnlyList<JobRunner.VmStart>> started)
        => Akka.Actor.Props.Create(() => new RunCoordinator(region, requests, concurrency, options, started));

    protected override void PreStart()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var request in requests)
        {
            vms[request.VmUuid] = new Turn(request) { Heard = now };
            region.Tell(request with { Held = true }, Self);
        }

        Timers.StartSingleTimer("start", StartTimedOut.Instance, options.StartTimeout);
        Timers.StartPeriodicTimer("watch", WatchTick.Instance, options.WatchEvery);
    }

    protected override void PostStop() => Answer();

    private void Heard(string vm, Action<Turn> change)
    {
        if (!vms.TryGetValue(vm, out var turn))
        {
            return;
        }

        turn.Heard = DateTimeOffset.UtcNow;
        if (turn.Stage != Stage.Ended)
        {
            change(turn);
        }

        if (!answered && vms.Values.All(v => v.Stage != Stage.Asked))
        {
            Answer();
        }

        Release();
    }

    /// <summary>The start's answer: each VM accepted (running or queued) or refused with the reason.</summary>
    private void Answer()
    {
        answered = true;
        Timers.Cancel("start");
        started.TrySetResult([.. requests.Select(r => vms[r.VmUuid]).Select(t => t.Stage switch
        {
            Stage.Asked => new JobRunner.VmStart(t.Request.VmUuid, false,
                $"its entity did not answer within {options.StartTimeout.TotalSeconds:F0} s (it may still run: see the run)"),
            _ when t.Refusal is { } reason => new JobRunner.VmStart(t.Request.VmUuid, false, reason),
            _ => new JobRunner.VmStart(t.Request.VmUuid, true, null),
        })]);
    }

    /// <summary>Frees slots in the job's order: a VM not answered yet holds back those after it until the start is answered.</summary>
    private void Release()
    {
        var busy = vms.Values.Count(v => v.Stage == Stage.Released);
        foreach (var turn in requests.Select(r => vms[r.VmUuid]))
        {
            if ((concurrency > 0 && busy >= concurrency) || (turn.Stage == Stage.Asked && !answered))
            {
                break;
            }

            if (turn.Stage == Stage.Waiting)
            {
                turn.Stage = Stage.Released;
                turn.ReleasedAt = DateTimeOffset.UtcNow;
                busy++;
                region.Tell(new ReleaseRun(turn.Request.VmUuid, turn.Request.RunId), Self);
            }
        }

        if (answered && vms.Values.All(v => v.Stage == Stage.Ended))
        {
            Context.Stop(Self);
        }
    }

    private void Watch()
    {
        var now = DateTimeOffset.UtcNow;
        var slot = (requests[0].Settings.Timeout ?? TimeSpan.FromDays(1)) + options.SlotMargin;
        foreach (var turn in vms.Values.Where(v => v.Stage != Stage.Ended))
        {
            var vm = turn.Request.VmUuid;
            if (now - turn.Heard > options.Silence)
            {
                log.Warning("run {0}: VM {1}'s entity said nothing for {2:F0} s: counted as failed, its slot goes to the next VM",
                    turn.Request.RunId, vm, options.Silence.TotalSeconds);
                turn.Stage = Stage.Ended;
            }
            else if (turn.Stage == Stage.Released && now - turn.ReleasedAt > slot)
            {
                log.Warning("run {0}: VM {1} still going after {2}: its slot goes to the next VM", turn.Request.RunId, vm, slot);
                turn.Stage = Stage.Ended;
            }
            else
            {
                region.Tell(new WatchRun(vm, turn.Request.RunId), Self);
            }
        }

        Release();
    }

    private enum Stage
    {
        Asked,
        Waiting,
        Released,
        Ended,
    }

    private sealed class Turn(ReplicateVm request)
    {
        public ReplicateVm Request { get; } = request;

        public Stage Stage { get; set; }

        public string? Refusal { get; set; }

        public DateTimeOffset Heard { get; set; }

        public DateTimeOffset ReleasedAt { get; set; }
    }

    private sealed class StartTimedOut
    {
        public static readonly StartTimedOut Instance = new();
    }

    private sealed class WatchTick
    {
        public static readonly WatchTick Instance = new();
    }
}
