using Akka.Actor;
using Akka.Cluster;
using XcrCluster.Domain.Pools;

namespace XcrCluster.Actors;

/// <summary>
/// The agent of one pool, a cluster singleton on the nodes serving that pool: it enforces the pool's limits across
/// every job of the cluster (snapshots and VDI transfers at once, as Xen Orchestra does), granting slots first
/// come first served, and hosts the target sessions of runs writing to its pool (<see cref="TargetSessionActor"/>).
/// Leases of a node that leaves are released. Not persistent: after a hand-over the new agent starts empty.
/// </summary>
public sealed class PoolAgentActor : ReceiveActor
{
    private readonly Dictionary<string, IActorRef> askers = new(StringComparer.Ordinal);
    private PoolSlots slots;

    public PoolAgentActor(string pool, PoolLimits limits, TargetServices? targets = null)
    {
        slots = new PoolSlots(limits);
        Receive<OpenTarget>(open =>
        {
            if (targets is null)
            {
                Sender.Tell(new TargetFailed(pool, open.Session, $"the node of pool {pool}'s agent serves no targets"));
                return;
            }

            var name = Uri.EscapeDataString(open.Session);
            (Context.Child(name).IsNobody() ? Context.ActorOf(TargetSessionActor.Props(pool, open.Session, targets), name) : Context.Child(name)).Forward(open);
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
        Receive<GetPoolLoad>(_ => Sender.Tell(new PoolLoad(pool, slots.InUse(SlotKind.Snapshot), slots.InUse(SlotKind.Transfer), slots.Waiting.Count,
            Cluster.Get(Context.System).SelfAddress.ToString())));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    public static Props Props(string pool, PoolLimits limits, TargetServices? targets = null) => Akka.Actor.Props.Create(() => new PoolAgentActor(pool, limits, targets));

    protected override void PreStart() => Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private void Apply((PoolSlots State, IReadOnlyList<AcquireSlots> Granted) result)
    {
        slots = result.State;
        foreach (var granted in result.Granted)
        {
            if (askers.Remove(granted.LeaseId, out var asker))
            {
                asker.Tell(new SlotsGranted(granted.Pool, granted.LeaseId));
            }
        }
    }
}
