using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Streams;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;

namespace XcrCluster.Actors;

/// <summary>
/// One per node: starts the agent singleton manager of every registered pool this node serves (role
/// <c>pool-NAME</c>, or the catch-all <see cref="AllPoolsRole"/> of the single-node default) as pools get
/// registered, and routes this node's slot and inventory requests to each pool's agent through a singleton proxy, stamping them
/// with this node's address. A pool is served either by nodes with its own role or by catch-all nodes.
/// </summary>
public sealed class PoolAgentsActor : ReceiveActor, IWithTimers
{
    public const string AllPoolsRole = "pool-all";

    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(10);
    private readonly Cluster cluster = Cluster.Get(Context.System);
    private readonly Dictionary<string, IActorRef> proxies = new(StringComparer.Ordinal);
    private readonly HashSet<string> managers = new(StringComparer.Ordinal);
    private readonly PoolLimits limits;
    private readonly AgentServices? targets;

    public PoolAgentsActor(Func<Task<IActorRef>> controlPlane, PoolLimits limits, AgentServices? targets)
    {
        this.limits = limits;
        this.targets = targets is { Materializer: null } ? targets with { Materializer = Context.System.Materializer() } : targets;
        Receive<ITargetMessage>(message => Agent(message.Pool).Forward(message));
        Receive<RunSource>(message => Agent(message.Pool).Forward(message));
        Receive<AcquireSlots>(request => Agent(request.Pool).Forward(request with { OwnerNode = cluster.SelfAddress.ToString() }));
        Receive<ReleaseSlots>(release => Agent(release.Pool).Forward(release));
        Receive<GetPoolLoad>(get => Agent(get.Pool).Forward(get));
        Receive<GetInventory>(get => Agent(get.Pool).Forward(get));
        Receive<GetSrReplicas>(get => Agent(get.Pool).Forward(get));
        Receive<PurgeOnPool>(purge => Agent(purge.Pool).Forward(purge));
        Receive<RunRecoveryStep>(run => Agent(run.Pool).Forward(run));
        Receive<IFailbackReplicaRequest>(request => Agent(request.Pool).Forward(request));
        Receive<CheckPoolLogin>(CheckLogin);
        Receive<Refresh>(_ => FetchPoolsAsync(controlPlane).PipeTo(Self, failure: _ => new PoolList([])));
        Receive<PoolList>(list =>
        {
            foreach (var pool in list.Pools)
            {
                EnsureManager(pool.Name);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Func<Task<IActorRef>> controlPlane, PoolLimits? limits = null, AgentServices? targets = null)
        => Akka.Actor.Props.Create(() => new PoolAgentsActor(controlPlane, limits ?? new PoolLimits(2, 12), targets));

    /// <summary>The role that serves a pool here: its own when a member has it, else the catch-all.</summary>
    public static string RoleFor(string pool, IEnumerable<Member> members)
        => members.Any(m => m.HasRole(PoolRole(pool))) ? PoolRole(pool) : AllPoolsRole;

    public static string PoolRole(string pool) => "pool-" + pool;

    protected override void PreStart()
    {
        Self.Tell(Refresh.Instance);
        Timers.StartPeriodicTimer("refresh", Refresh.Instance, RefreshEvery);
    }

    private static async Task<PoolList> FetchPoolsAsync(Func<Task<IActorRef>> controlPlane)
        => await (await controlPlane().ConfigureAwait(false)).Ask<PoolList>(new GetPools(), TimeSpan.FromSeconds(10)).ConfigureAwait(false);

    private IActorRef Agent(string pool)
    {
        EnsureManager(pool);
        if (!proxies.TryGetValue(pool, out var proxy))
        {
            var role = RoleFor(pool, cluster.State.Members.Append(cluster.SelfMember));
            proxy = Context.ActorOf(ClusterSingletonProxy.Props(Self.Path.ToStringWithoutAddress() + "/" + ManagerName(pool),
                ClusterSingletonProxySettings.Create(Context.System).WithRole(role).WithSingletonName("agent")),
                "proxy-" + ActorName(pool));
            proxies[pool] = proxy;
        }

        return proxy;
    }

    /// <summary>The singleton manager for the pool, on this node if it serves the pool.</summary>
    private void EnsureManager(string pool)
    {
        var role = cluster.SelfRoles.Contains(PoolRole(pool)) ? PoolRole(pool)
            : cluster.SelfRoles.Contains(AllPoolsRole) ? AllPoolsRole : null;
        if (role is null || !managers.Add(pool))
        {
            return;
        }

        Context.ActorOf(ClusterSingletonManager.Props(PoolAgentActor.Props(pool, limits, targets), PoisonPill.Instance,
            ClusterSingletonManagerSettings.Create(Context.System).WithRole(role).WithSingletonName("agent")), ManagerName(pool));
    }

    /// <summary>A registration's login, made on a node serving the pool: here when this node does (or the check was sent on
    /// to it), else sent on to an Up member that does; no such member is the answer.</summary>
    private void CheckLogin(CheckPoolLogin check)
    {
        var up = cluster.State.Members.Where(m => m.Status == MemberStatus.Up).Append(cluster.SelfMember).ToList();
        var role = RoleFor(check.Pool, up);
        var self = cluster.SelfAddress.ToString();
        if (check.Forwarded || cluster.SelfRoles.Contains(role))
        {
            if (targets?.Unseal is not { } unseal)
            {
                Sender.Tell(new PoolLoginChecked(check.Pool, "the node serving the pool has no XAPI access", self));
                return;
            }

            Task.Run(() => PoolLogin.ErrorAsync(unseal(check.Registration))).PipeTo(Sender,
                success: error => new PoolLoginChecked(check.Pool, error, self),
                failure: e => new PoolLoginChecked(check.Pool, e.GetBaseException().Message, self));
            return;
        }

        if (up.FirstOrDefault(m => m.HasRole(role)) is not { } server)
        {
            var start = $"start a node with role {PoolRole(check.Pool)} (or {AllPoolsRole}), then register it";
            Sender.Tell(new PoolLoginChecked(check.Pool, $"no node serves pool {check.Pool}: {start}", self));
            return;
        }

        Context.ActorSelection(new RootActorPath(server.Address) / "user" / Self.Path.Name).Tell(check with { Forwarded = true }, Sender);
    }

    private static string ManagerName(string pool) => "agent-" + ActorName(pool);

    /// <summary>Pool names as actor names: letters, digits, - and _ as they are, anything else hex-escaped.</summary>
    private static string ActorName(string pool)
    {
        var name = new StringBuilder();
        foreach (var c in pool)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : $"%{(int)c:x4}");
        }

        return name.ToString();
    }

    private sealed class Refresh
    {
        public static readonly Refresh Instance = new();
    }
}

/// <summary>Marker type for the node's pool agents router in Akka.Hosting's registry.</summary>
public sealed class PoolAgents
{
}
