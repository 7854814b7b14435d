using System.Reflection;
using Akka;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Remote.Hosting;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Hosting;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Akka.Hosting composition of what this project holds, one method per region or concern.</summary>
public static class ReplicationHosting
{
    /// <summary>Our serializer for every persisted or sent message (owned manifests).</summary>
    public static AkkaConfigurationBuilder WithXcrSerializer(this AkkaConfigurationBuilder builder)
        => builder.WithCustomSerializer("xcr", ReplicationSerializer.BoundTypes, system => new ReplicationSerializer(system));

    /// <summary>The ReplicatedVm shard region: persistence state store with remember-entities (entities restart
    /// after a node restart and record interrupted runs), on nodes with the given role; shards are never rebalanced
    /// (<see cref="NoRebalanceAllocationStrategy"/>: a move would interrupt the runs going on in them). With <paramref name="chains"/>
    /// each entity reconciles its chains with the target SRs before each run.</summary>
    public static AkkaConfigurationBuilder WithReplicatedVms(this AkkaConfigurationBuilder builder, IRunExecutor executor,
        string? role = null, IChainReader? chains = null)
        => builder
            .AddStartup((system, _) => CoordinatedShutdown.Get(system)
                .AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "cancel-replications", async () =>
            {
                // Runs are cancelled and clean up on the pools while this node is still a member.
                await executor.CancelAllAsync(CancelGrace).ConfigureAwait(false);
                return Done.Instance;
            }))
            .WithActors((system, registry) => registry.Register<ReplicatedVmRegion>(ClusterSharding.Get(system).Start(
                ReplicatedVmMessageExtractor.RegionName, id => ReplicatedVmActor.Props(id, executor, chains), RegionSettings(system, role),
                new ReplicatedVmMessageExtractor(), new NoRebalanceAllocationStrategy(), PoisonPill.Instance)));

    /// <summary>What Akka.Hosting's ShardOptions would set (it has no allocation strategy, hence the region is started here).</summary>
    private static ClusterShardingSettings RegionSettings(ActorSystem system, string? role)
    {
        var own = $"remember-entities = on\nstate-store-mode = persistence\n{(role is null ? "" : $"role = \"{role}\"")}";
        var config = system.Settings.Config;
        return ClusterShardingSettings.Create(ConfigurationFactory.ParseString(own).WithFallback(config.GetConfig("akka.cluster.sharding")),
            config.GetConfig("akka.cluster.singleton"));
    }

    /// <summary>DistributedPubSub's mediator on every node from the start (run progress, <see cref="RunProgressTopic"/>),
    /// so subscriptions made elsewhere reach it before its first publish.</summary>
    public static AkkaConfigurationBuilder WithRunProgress(this AkkaConfigurationBuilder builder)
        => builder.WithDistributedPubSub(role: "");

    /// <summary>A cluster of this node alone on loopback (in-process tests): remoting on a free port, joined to itself.</summary>
    public static AkkaConfigurationBuilder WithLoopbackCluster(this AkkaConfigurationBuilder builder)
        => builder.WithRemoting(new RemoteOptions { HostName = "127.0.0.1", Port = 0 })
            .WithClustering(new ClusterOptions())
            .AddStartup((system, _) => Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress));

    /// <summary>The role of nodes that keep the books: the ReplicatedVm region and the control plane (with the journal).</summary>
    public const string ControlRole = "control";

    /// <summary>On nodes without the control role: a proxy to the ReplicatedVm region on the control nodes.</summary>
    public static AkkaConfigurationBuilder WithReplicatedVmProxy(this AkkaConfigurationBuilder builder, string role = ControlRole)
        => builder.WithShardRegionProxy<ReplicatedVmRegion>(ReplicatedVmMessageExtractor.RegionName, role,
            new ReplicatedVmMessageExtractor());

    /// <summary>On nodes without the control role: a proxy to the control plane singleton.</summary>
    public static AkkaConfigurationBuilder WithControlPlaneProxy(this AkkaConfigurationBuilder builder, string role = ControlRole)
        => builder.WithSingletonProxy<ControlPlane>("control-plane", new ClusterSingletonOptions { Role = role });

    /// <summary>The scheduler singleton (runs of due schedules), on nodes with the given role; after a journal failure
    /// it starts again with <paramref name="backoff"/> (else <see cref="SingletonBackoff.FromConfig"/>).</summary>
    public static AkkaConfigurationBuilder WithScheduler(
        this AkkaConfigurationBuilder builder, string? role = null, SingletonBackoff? backoff = null)
        => builder.WithSingleton<Scheduler>("scheduler",
            (system, _, _) => (backoff ?? SingletonBackoff.FromConfig(system.Settings.Config))
                .Supervise(SchedulerActor.Props(), "scheduler"),
            new ClusterSingletonOptions { Role = role });

    /// <summary>The control plane singleton (pools, jobs) and its proxy, on nodes with the given role; after a journal
    /// failure it starts again with <paramref name="backoff"/> (else <see cref="SingletonBackoff.FromConfig"/>).</summary>
    public static AkkaConfigurationBuilder WithControlPlane(
        this AkkaConfigurationBuilder builder, string? role = null, SingletonBackoff? backoff = null)
        => builder.WithSingleton<ControlPlane>("control-plane",
            (system, _, _) => (backoff ?? SingletonBackoff.FromConfig(system.Settings.Config)).Supervise(ControlPlaneActor.Props(), "book"),
            new ClusterSingletonOptions { Role = role });

    /// <summary>The notifier singleton (<see cref="NotifierActor"/>: notices delivered to webhooks and email) on nodes with the
    /// given role; needs the control plane, the ReplicatedVm region and the pool agents.</summary>
    public static AkkaConfigurationBuilder WithNotifier(this AkkaConfigurationBuilder builder, ClusterKey key, string? role = null,
        NotifierOptions? options = null)
        => builder.WithSingleton<Notifier>("notifier", (system, registry, _) => NotifierActor.Props(() => registry.GetAsync<ControlPlane>(),
            () => registry.GetAsync<ReplicatedVmRegion>(), () => registry.GetAsync<PoolAgents>(), key,
            options ?? NotifierOptions.From(system.Settings.Config)), new ClusterSingletonOptions { Role = role });

    /// <summary>On nodes without the control role: a proxy to the notifier singleton (the API's test and log).</summary>
    public static AkkaConfigurationBuilder WithNotifierProxy(this AkkaConfigurationBuilder builder, string role = ControlRole)
        => builder.WithSingletonProxy<Notifier>("notifier", new ClusterSingletonOptions { Role = role });

    /// <summary>This node's pool agents router (<see cref="PoolAgentsActor"/>): starts the agent singletons of the
    /// pools this node serves and routes slot requests to every pool's agent. Needs the control plane proxy. Without
    /// <paramref name="limits"/>, the bounds come from the configuration (<see cref="PoolLimitsFrom"/>). <paramref name="services"/>
    /// (made once the actor system exists) lends the agents XAPI access and the data channel; runs going on their source
    /// sessions are cancelled when the node stops, and given the same grace as the executor's to clean up.</summary>
    public static AkkaConfigurationBuilder WithPoolAgents(this AkkaConfigurationBuilder builder, PoolLimits? limits = null,
        Func<ActorSystem, IActorRegistry, AgentServices>? services = null)
        => builder.WithActors((system, registry) =>
        {
            var targets = services?.Invoke(system, registry);
            if (targets is not null)
            {
                var shutdown = CoordinatedShutdown.Get(system);
                shutdown.AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "cancel-source-sessions", async () =>
                {
                    await targets.Running.CancelAllAsync(CancelGrace).ConfigureAwait(false);
                    return Done.Instance;
                });
            }

            registry.Register<PoolAgents>(system.ActorOf(PoolAgentsActor.Props(
                () => registry.GetAsync<ControlPlane>(), limits ?? PoolLimitsFrom(system.Settings.Config), targets), "pool-agents"));
        });

    /// <summary>How long a stopping node waits for its cancelled runs to clean up on the pools (within
    /// hocon/base.hocon's before-cluster-shutdown phase timeout).</summary>
    public static readonly TimeSpan CancelGrace = TimeSpan.FromSeconds(40);

    /// <summary>Xen Orchestra's limits, and <c>xcr.pool-slots { max-hold, max-wait }</c> (hocon/base.hocon) bounding a lease
    /// and a wait.</summary>
    public static PoolLimits PoolLimitsFrom(Config config) => new()
    {
        MaxHold = config.GetTimeSpan("xcr.pool-slots.max-hold", PoolLimits.DefaultMaxHold, allowInfinite: false),
        MaxWait = config.GetTimeSpan("xcr.pool-slots.max-wait", PoolLimits.DefaultMaxWait, allowInfinite: false),
    };

    /// <summary>The SQL journal and snapshot store from hocon/persistence.sql.hocon.</summary>
    public static AkkaConfigurationBuilder WithSqlPersistence(this AkkaConfigurationBuilder builder, string provider,
        string connectionString)
        => builder.AddHocon(PersistenceHocon(provider, connectionString), HoconAddMode.Prepend);

    /// <summary>hocon/base.hocon, cluster.hocon and failure-detector.hocon (shutdown, IO buffers, downing, sharding,
    /// failure detection) as fallbacks, so a node's own configuration file overrides them.</summary>
    public static AkkaConfigurationBuilder WithXcrClusterDefaults(this AkkaConfigurationBuilder builder)
        => builder.AddHocon(Embedded("base.hocon"), HoconAddMode.Append)
            .AddHocon(Embedded("cluster.hocon"), HoconAddMode.Append)
            .AddHocon(Embedded("failure-detector.hocon"), HoconAddMode.Append);

    public static string PersistenceHocon(string provider, string connectionString)
        => Embedded("persistence.sql.hocon").Replace("@PROVIDER@", provider, StringComparison.Ordinal)
            .Replace("@CONNECTION@", connectionString.Replace("\\", "\\\\", StringComparison.Ordinal)
                .Replace("\"", "\\\"", StringComparison.Ordinal), StringComparison.Ordinal);

    private static string Embedded(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>How long a SQLite statement waits for a lock another connection holds before it fails (Microsoft.Data.Sqlite's
    /// own default): the journal's failures then reach the persistent actors, which start again (<see cref="SingletonBackoff"/>).</summary>
    public static readonly TimeSpan SqliteBusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>SQLite in a data directory: the embedded default (one node, nothing to set up).</summary>
    public static string SqliteConnection(string dataDir, TimeSpan? busyTimeout = null)
    {
        var seconds = Math.Max(1, (int)(busyTimeout ?? SqliteBusyTimeout).TotalSeconds);
        return $"Data Source={Path.Combine(dataDir, "xcr.db")};Default Timeout={seconds}";
    }
}
