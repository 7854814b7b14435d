using System.Collections.Concurrent;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>A control node in-process as xcr-node composes it (control plane and scheduler singletons on SQLite, with a
/// short busy timeout and backoff), a region that accepts every run and records the requests, and the errors logged.</summary>
public sealed class SqliteControlNode : IAsyncDisposable
{
    private readonly IHost host;

    private SqliteControlNode(IHost host) => this.host = host;

    /// <summary>The runs the scheduler started, in order.</summary>
    public Channel<ReplicateVm> Runs { get; } = Channel.CreateBounded<ReplicateVm>(10_000);

    public ConcurrentQueue<string> Errors { get; } = new();

    public ActorSystem System => host.Services.GetRequiredService<ActorSystem>();

    public static string Database(string dataDir) => Path.Combine(dataDir, "xcr.db");

    public static async Task<SqliteControlNode> StartAsync(string dataDir)
    {
        SqliteControlNode? node = null;
        var backoff = new SingletonBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1));
        var host = new HostBuilder().ConfigureServices(services => services.AddAkka("xcr", builder => builder
            .AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend)
            .WithLoopbackCluster()
            .WithSqlPersistence("SQLite.MS", ReplicationHosting.SqliteConnection(dataDir, TimeSpan.FromSeconds(1)))
            .WithXcrSerializer()
            .WithControlPlane(backoff: backoff)
            .WithScheduler(backoff: backoff)
            .WithActors((system, registry) =>
            {
                system.EventStream.Subscribe(system.ActorOf(Props.Create(() => new Collector(node!.Errors))), typeof(Error));
                registry.Register<ReplicatedVmRegion>(system.ActorOf(Props.Create(() => new AcceptingRegion(node!.Runs.Writer))));
                registry.Register<PoolAgents>(system.DeadLetters);
            }))).Build();
        node = new SqliteControlNode(host);
        await host.StartAsync();
        return node;
    }

    public async Task<IActorRef> ControlPlaneAsync() => await host.Services.GetRequiredService<ActorRegistry>().GetAsync<ControlPlane>();

    public async Task<T> AskAsync<T>(IControlRequest command, TimeSpan? deadline = null)
        where T : IControlReply
        => await ControlPlaneClient.AskAsync<T>(ControlPlaneAsync, command, deadline ?? TimeSpan.FromSeconds(30));

    /// <summary>The events of a persistence id still in the journal.</summary>
    public static long JournalEvents(string dataDir, string persistenceId)
    {
        using var connection = new SqliteConnection($"Data Source={Database(dataDir)}");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $id AND deleted = 0";
        count.Parameters.AddWithValue("$id", persistenceId);
        return (long)count.ExecuteScalar()!;
    }

    public static PoolRegistration Pool(string name) => new(name, "https://192.0.2.10", "root", "c2VhbGVk", null, true);

    public static JobDefinition EverySecond(string id, string pool, int schedules = 1) => new(id, id, pool, [Guid.NewGuid().ToString()],
        [new TargetRef(pool, Guid.NewGuid().ToString())], new ReplicationSettings())
    {
        Schedules = [.. Enumerable.Range(0, schedules).Select(i => new JobSchedule($"{id}-s{i}", "* * * * * *"))],
        Defined = DateTimeOffset.UtcNow,
    };

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }

    private sealed class Collector : ReceiveActor
    {
        public Collector(ConcurrentQueue<string> errors)
            => Receive<Error>(e => errors.Enqueue($"{e.LogSource}: {e.Message} {e.Cause?.Message}"));
    }

    private sealed class AcceptingRegion : ReceiveActor
    {
        public AcceptingRegion(ChannelWriter<ReplicateVm> runs) => Receive<ReplicateVm>(request =>
        {
            runs.TryWrite(request);
            Sender.Tell(new RunAccepted(request.VmUuid, request.RunId, false));
        });
    }
}
