using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using XcrCluster.Domain.Pools;
using XcrCluster.Replication;
using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>
/// The agent of one pool, a cluster singleton on the nodes serving that pool: it enforces the pool's limits across
/// every job of the cluster (snapshots and VDI transfers at once, as Xen Orchestra does), granting slots first
/// come first served, hosts the source sessions of runs reading from its pool (<see cref="SourceSessionActor"/>) and the
/// target sessions of runs writing to it (<see cref="TargetSessionActor"/>), and
/// reads the pool's live inventory (SRs, VMs, disks) for whoever asks. Leases of a node that leaves are released. Not persistent: after a
/// hand-over the new agent starts empty. No wait is endless: a lease held longer than <see cref="PoolLimits.MaxHold"/> is reclaimed (with a
/// warning naming its holder) and a request waiting longer than <see cref="PoolLimits.MaxWait"/> is answered <see cref="SlotsRefused"/>.
/// </summary>
public sealed class PoolAgentActor : ReceiveActor, IWithTimers
{
    /// <summary>Bounds an inventory read so the asker hears why before its own ask times out (the HTTP API waits 30 s).</summary>
    public static readonly TimeSpan InventoryTimeout = TimeSpan.FromSeconds(20);

    private readonly Dictionary<string, IActorRef> askers = new(StringComparer.Ordinal);

    /// <summary>The source session of each VM with an attempt going here.</summary>
    private readonly Dictionary<string, IActorRef> sources = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly string pool;
    private PoolSlots slots;

    public PoolAgentActor(string pool, PoolLimits limits, AgentServices? targets = null)
    {
        this.pool = pool;
        slots = new PoolSlots(limits);
        Receive<OpenTarget>(open =>
        {
            if (targets is null)
            {
                Sender.Tell(new TargetFailed(pool, open.Session, $"the node of pool {pool}'s agent serves no targets"));
                return;
            }

            var name = Uri.EscapeDataString(open.Session);
            (Context.Child(name).IsNobody() ? Context.ActorOf(TargetSessionActor.Props(pool, open.Session, targets), name)
                : Context.Child(name)).Forward(open);
        });
        Receive<ITargetMessage>(message =>
        {
            var session = Context.Child(Uri.EscapeDataString(message.Session));
            if (session.IsNobody())
            {
                Sender.Tell(new TargetFailed(pool, message.Session, "no such target session (the agent moved or the session ended)"));
            }
            else
            {
                session.Forward(message);
            }
        });
        var admission = new SourceAdmission(Context.System);
        Receive<RunSource>(run =>
        {
            if (admission.Ignore(run) is { } ignored)
            {
                log.Info("pool {0}: attempt {1} ignored: {2}", pool, run.Session, ignored);
                return;
            }

            admission.Answered(run);

            // One attempt per VM at a time: a new one while the last still ends (its orchestrator gone, it is undoing what
            // it made) is refused, and retried per `retries` like any failed attempt.
            var vm = run.Request.VmUuid;
            var refusal = targets is null ? $"the node of pool {pool}'s agent has no XAPI access"
                : sources.ContainsKey(vm) ? $"an earlier run of this VM is still ending on pool {pool}'s agent" : null;
            if (refusal is not null)
            {
                Sender.Tell(new SourceFinished(pool, run.Session, LocalRun.Failed(run.Request, refusal)));
                return;
            }

            var session = Context.ActorOf(SourceSessionActor.Props(pool, targets!), "source-" + Uri.EscapeDataString(run.Session));
            sources[vm] = Context.Watch(session);
            session.Forward(run);
        });
        // A session says it ended before its orchestrator hears the result, so a retry sent at once is never taken for a
        // run still going; one that stops without saying so (the agent's own stop aside) is forgotten when it terminates.
        Receive<SourceSessionActor.Ended>(ended => sources.Remove(ended.VmUuid));
        Receive<Terminated>(t =>
        {
            foreach (var vm in sources.Where(s => s.Value.Equals(t.ActorRef)).Select(s => s.Key).ToList())
            {
                sources.Remove(vm);
            }
        });
        Receive<AcquireSlots>(request =>
        {
            askers[request.LeaseId] = Sender;
            Apply(slots.Acquire(request));
        });
        Receive<ReleaseSlots>(release =>
        {
            askers.Remove(release.LeaseId);
            Apply(slots.Release(release.LeaseId));
        });
        Receive<ClusterEvent.MemberRemoved>(removed => Apply(slots.ReleaseNode(removed.Member.Address.ToString())));
        Receive<GetPoolLoad>(
            _ => Sender.Tell(new PoolLoad(pool, slots.InUse(SlotKind.Snapshot), slots.InUse(SlotKind.Transfer), slots.Waiting.Count,
            Cluster.Get(Context.System).SelfAddress.ToString())));
        Receive<GetInventory>(_ =>
        {
            if (targets is null)
            {
                Sender.Tell(new InventoryFailed(pool, $"the node of pool {pool}'s agent has no XAPI access (it serves no targets)"));
                return;
            }

            ReadInventoryAsync(pool, targets).PipeTo(Sender, failure: e => new InventoryFailed(pool, ErrorText.Of(e)));
        });
        Receive<GetSrReplicas>(get =>
        {
            if (targets is null)
            {
                Sender.Tell(new SrReplicasFailed(pool, get.SrUuid,
                    $"the node of pool {pool}'s agent has no XAPI access (it serves no targets)"));
                return;
            }

            ChainReads.ReadSrAsync(get, targets).PipeTo(Sender, failure: e => new SrReplicasFailed(pool, get.SrUuid, ErrorText.Of(e)));
        });
        Receive<PurgeOnPool>(purge =>
        {
            if (targets is null)
            {
                Sender.Tell(new PurgeFailed(pool, purge.SrUuid,
                    $"the node of pool {pool}'s agent has no XAPI access (it serves no targets)"));
                return;
            }

            AgentPurge.RunAsync(purge, targets).PipeTo(Sender, failure: e => new PurgeFailed(pool, purge.SrUuid, ErrorText.Of(e)));
        });
        Receive<RunRecoveryStep>(run =>
        {
            if (targets is null)
            {
                Sender.Tell(new RecoveryStepDone(pool, Domain.Recovery.RecoveryVmOutcome.Failed(run.Step.Vm,
                    $"the node of pool {pool}'s agent has no XAPI access (it serves no targets)")));
                return;
            }

            AgentRecovery.RunAsync(run, targets).PipeTo(Sender);
        });
        Receive<IFailbackReplicaRequest>(request =>
        {
            if (targets is null)
            {
                Sender.Tell(new FailbackReplicaFailed(pool, $"the node of pool {pool}'s agent has no XAPI access", false));
                return;
            }

            AgentFailback.RunAsync(request, targets).PipeTo(Sender);
        });
        Receive<Expire>(_ => Expired(slots.Expire(DateTimeOffset.UtcNow)));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    public static Props Props(string pool, PoolLimits limits, AgentServices? targets = null)
        => Akka.Actor.Props.Create(() => new PoolAgentActor(pool, limits, targets));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        StateGauges.PoolSlots(pool, slots);
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.MemberRemoved));
        // Checked a few times per bound, so a lease or a request goes at most a quarter late (and at least every 10 s).
        var bound = slots.Limits.MaxHold < slots.Limits.MaxWait ? slots.Limits.MaxHold : slots.Limits.MaxWait;
        var every = Math.Clamp(bound.Ticks / 4, TimeSpan.TicksPerMillisecond * 50, TimeSpan.TicksPerSecond * 10);
        Timers.StartPeriodicTimer("expire", Expire.Instance, TimeSpan.FromTicks(every));
    }

    protected override void PostStop()
    {
        StateGauges.PoolGone(pool);
        Cluster.Get(Context.System).Unsubscribe(Self);
    }

    /// <summary>Off the actor, on a session of its own (a read never waits behind a run's calls).</summary>
    private static async Task<PoolInventory> ReadInventoryAsync(string pool, AgentServices services)
    {
        using var deadline = new CancellationTokenSource(InventoryTimeout);
        try
        {
            var opened = await PoolMirrors.OpenAsync(services.Pools, pool, services.Mirrors, null, deadline.Token).ConfigureAwait(false);
            await using var client = opened.Client;
            return await opened.InventoryAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {InventoryTimeout.TotalSeconds:F0} s");
        }
    }

    private sealed class Expire
    {
        public static readonly Expire Instance = new();
    }


    private void Expired(SlotExpiry result)
    {
        foreach (var lease in result.Reclaimed)
        {
            var holder = lease.OwnerNode.Length > 0 ? $"node {lease.OwnerNode}" : "an unknown node";
            log.Warning("pool {0}: lease {1} ({2} {3} slot(s)) of {4} held longer than {5}: reclaimed", pool, lease.LeaseId, lease.Count,
                lease.Kind.ToString().ToLowerInvariant(), holder, slots.Limits.MaxHold);
        }

        foreach (var request in result.TimedOut)
        {
            if (askers.Remove(request.LeaseId, out var asker))
            {
                var kind = request.Kind.ToString().ToLowerInvariant();
                asker.Tell(new SlotsRefused(pool, request.LeaseId,
                    $"pool {pool}: no {kind} slot free "
                        + $"within {result.State.Limits.MaxWait} (limit {result.State.Limits.Capacity(request.Kind)})"));
            }
        }

        Apply((result.State, result.Granted));
    }

    private void Apply((PoolSlots State, IReadOnlyList<AcquireSlots> Granted) result)
    {
        slots = result.State;
        StateGauges.PoolSlots(pool, slots);
        foreach (var granted in result.Granted)
        {
            if (askers.Remove(granted.LeaseId, out var asker))
            {
                asker.Tell(new SlotsGranted(granted.Pool, granted.LeaseId));
            }
        }
    }
}
