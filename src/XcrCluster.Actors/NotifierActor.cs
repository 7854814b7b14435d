using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Notify;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>
/// The notifier (cluster singleton on the control nodes): hears notices on the "notices" topic (RPO), makes run-ended notices
/// from the "run-progress" topic and the VMs' entities (<see cref="NotifierActor"/>'s run part), node down/up from member
/// events (<see cref="NodeWatch"/>), and delivers each to the targets the control plane keeps that want it: a bounded queue
/// (the oldest dropped, logged, when full), a few deliveries at once, each retried with a doubling pause in a task off the
/// actor, every attempt in a bounded delivery log. The log and the runs reported are kept in its ledger
/// (<see cref="NotifyLedgerActor"/>, persisted), loaded before anything else is handled.
/// </summary>
public sealed partial class NotifierActor : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    /// <summary>Messages kept while the ledger loads; beyond this they are dropped with a warning.</summary>
    public const int StashLimit = 10_000;

    private readonly Func<Task<IActorRef>> controlPlane;
    private readonly NotifierOptions options;
    private readonly NoticeSenders senders;
    private readonly NodeWatch nodes;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly LinkedList<(NotifyTarget Target, INotice Notice, string Id)> queue = new();
    private readonly LinkedList<DeliveryEntry> deliveries = new();
    private readonly CancellationTokenSource stopping = new();
    private int inFlight;
    private int stashed;
    private IActorRef ledger = ActorRefs.Nobody;

    public NotifierActor(Func<Task<IActorRef>> controlPlane, Func<Task<IActorRef>> region, Func<Task<IActorRef>> poolAgents,
        ClusterKey key, NotifierOptions options)
    {
        this.controlPlane = controlPlane;
        this.region = region;
        this.poolAgents = poolAgents;
        this.options = options;
        var self = Cluster.Get(Context.System).SelfAddress;
        senders = new NoticeSenders(key, Context.System.Name, self.ToString(), options.AttemptTimeout);
        nodes = new NodeWatch(self);
        Receive<NotifyLedgerState>(Loaded);
        Receive<Status.Failure>(f =>
        {
            log.Warning("notifier: its ledger could not be read ({0}): a new delivery log, runs reported from now", f.Cause.Message);
            Loaded(NotifyLedgerState.Empty with { Since = DateTimeOffset.UtcNow });
        });
        ReceiveAny(message =>
        {
            // While the ledger loads (30 s at most) only what matters waits, and only so much of it: progress samples
            // are dropped (only ends count, and a run whose ends are lost is found by the sweep), the rest bounded.
            if (message is RunProgress)
            {
                return;
            }

            if (stashed++ < StashLimit)
            {
                Stash.Stash();
            }
            else
            {
                log.Warning("notifier: {0} dropped while its ledger loads (more than {1} waiting)", message.GetType().Name, StashLimit);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    private void Loaded(NotifyLedgerState state)
    {
        since = state.Since ?? DateTimeOffset.UtcNow;
        foreach (var entry in state.Log)
        {
            deliveries.AddLast(entry);
        }

        foreach (var run in state.Reported)
        {
            Reported(run, persist: false);
        }

        Become(Active);
        Stash.UnstashAll();
        Timers.StartPeriodicTimer("sweep", new Sweep(), options.Sweep);
    }

    private void Active()
    {
        Receive<INotice>(notice => _ = TargetsAsync().PipeTo(Self, success: t => new Fan(notice, t), failure: e => new Unsent(notice, e)));
        Receive<Fan>(f => f.Targets.Where(t => t.Wants(f.Notice)).ToList().ForEach(t => Enqueue(t, f.Notice)));
        Receive<Unsent>(u => log.Warning("notifier: {0} not sent, the targets could not be read: {1}", u.Notice.Kind, u.Error.Message));
        Receive<ClusterEvent.CurrentClusterState>(_ => { }); // members as they were when it started: nothing to say
        Receive<ClusterEvent.IClusterDomainEvent>(e =>
        {
            if (nodes.On(e, DateTimeOffset.UtcNow) is { } notice)
            {
                NoticeTopic.Publish(Context.System, notice); // heard back on the topic, like the scheduler's
            }
        });
        Receive<DeliveryEntry>(Logged);
        Receive<Delivered>(_ =>
        {
            inFlight--;
            Next();
        });
        Receive<TestNotifyTarget>(t => Test(t.TargetId));
        Receive<GetDeliveryLog>(g => Sender.Tell(new DeliveryLog([.. deliveries.Take(Math.Clamp(g.Limit, 1, options.LogLimit))])));
        Receive<SubscribeAck>(_ => { });
        Receive<Terminated>(t => t.ActorRef.Equals(ledger), _ =>
        {
            log.Warning("notifier: its ledger stopped (journal failure): started again in 5 s; deliveries meanwhile are not kept");
            Timers.StartSingleTimer("ledger", new RestartLedger(), TimeSpan.FromSeconds(5));
        });
        Receive<RestartLedger>(_ => ledger = Context.Watch(Context.ActorOf(NotifyLedgerActor.Props(options.LogLimit))));
        Runs();
    }

    public static Props Props(Func<Task<IActorRef>> controlPlane, Func<Task<IActorRef>> region, Func<Task<IActorRef>> poolAgents,
        ClusterKey key, NotifierOptions options)
        => Akka.Actor.Props.Create(() => new NotifierActor(controlPlane, region, poolAgents, key, options));

    protected override void PreStart()
    {
        var mediator = DistributedPubSub.Get(Context.System).Mediator;
        mediator.Tell(new Subscribe(NoticeTopic.Name, Self));
        mediator.Tell(new Subscribe(RunProgressTopic.Name, Self));
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        ledger = Context.Watch(Context.ActorOf(NotifyLedgerActor.Props(options.LogLimit)));
        ledger.Ask<NotifyLedgerState>(new GetNotifyLedger(), TimeSpan.FromSeconds(30)).PipeTo(Self);
    }

    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);
        stopping.Cancel();
        stopping.Dispose();
        senders.Dispose();
    }

    private async Task<IReadOnlyList<NotifyTarget>> TargetsAsync()
        => (await ControlPlaneClient.AskAsync<NotifyTargetList>(controlPlane, new GetNotifyTargets(), TimeSpan.FromSeconds(30))
            .ConfigureAwait(false)).Targets;

    private void Enqueue(NotifyTarget target, INotice notice)
    {
        if (queue.Count >= options.QueueLimit)
        {
            var dropped = queue.First!.Value;
            queue.RemoveFirst();
            log.Warning("notifier: queue full ({0}): dropped {1} to {2}", options.QueueLimit, dropped.Notice.Kind, dropped.Target.Id);
            Logged(new DeliveryEntry(dropped.Id, dropped.Target.Id, dropped.Notice.Kind, 0, "dropped", null,
                $"the queue held {options.QueueLimit} deliveries", DateTimeOffset.UtcNow));
        }

        queue.AddLast((target, notice, Guid.NewGuid().ToString()));
        Next();
    }

    /// <summary>Starts queued deliveries while fewer than <see cref="NotifierOptions.InFlight"/> go.</summary>
    private void Next()
    {
        while (inFlight < options.InFlight && queue.First is { } first)
        {
            queue.RemoveFirst();
            inFlight++;
            var (target, notice, id) = first.Value;
            var self = Self;
            _ = DeliverAsync(target, notice, id, options.Attempts, self.Tell).PipeTo(self, success: _ => new Delivered(),
                failure: _ => new Delivered());
        }
    }

    /// <summary>Attempts until delivered, refused for good or out of attempts, pausing <see cref="NotifierOptions.Backoff"/>
    /// between; each attempt is told to <paramref name="attempted"/> (the log); the last one is returned.</summary>
    private async Task<DeliveryEntry> DeliverAsync(NotifyTarget target, INotice notice, string id, int attempts,
        Action<object> attempted)
    {
        for (var attempt = 1; ; attempt++)
        {
            var result = await senders.SendAsync(target, notice, id, stopping.Token).ConfigureAwait(false);
            var again = !result.Delivered && result.Retry && attempt < attempts;
            var status = result.Delivered ? "delivered" : again ? "retrying" : "failed";
            var entry = new DeliveryEntry(id, target.Id, notice.Kind, attempt, status, result.Code, result.Error, DateTimeOffset.UtcNow);
            attempted(entry);
            if (!again)
            {
                return entry;
            }

            await Task.Delay(options.Backoff(attempt), stopping.Token).ConfigureAwait(false);
        }
    }

    private void Logged(DeliveryEntry entry)
    {
        if (entry.Status != "delivered")
        {
            log.Warning("notifier: {0} to {1}, attempt {2}: {3} {4}", entry.Event, entry.TargetId, entry.Attempt, entry.Status,
                entry.Error);
        }

        ledger.Tell(new DeliveryLogged(entry));
        deliveries.AddFirst(entry);
        while (deliveries.Count > options.LogLimit)
        {
            deliveries.RemoveLast();
        }
    }

    /// <summary>One attempt of a test notice, now, outside the queue; answered with its log entry.</summary>
    private void Test(string targetId)
    {
        var self = Self;
        async Task<TestDelivered> TestAsync()
        {
            var target = (await TargetsAsync().ConfigureAwait(false)).FirstOrDefault(t => t.Id == targetId);
            if (target is null)
            {
                return new TestDelivered(null, $"no notification target {targetId}");
            }

            var notice = new TestNotice(targetId, DateTimeOffset.UtcNow);
            var entry = await DeliverAsync(target, notice, Guid.NewGuid().ToString(), 1, self.Tell).ConfigureAwait(false);
            return new TestDelivered(entry, null);
        }

        TestAsync().PipeTo(Sender, failure: e => new TestDelivered(null, e.Message));
    }

    private sealed record Fan(INotice Notice, IReadOnlyList<NotifyTarget> Targets);

    private sealed record Unsent(INotice Notice, Exception Error);

    private sealed record Delivered;

    private sealed record Sweep;

    private sealed record RestartLedger;
}
