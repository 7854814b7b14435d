using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.TestKit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>Two control nodes in-process on loopback sharing one SQLite journal: a second node joining while a run is
/// going does not take the VM's shard (a move would interrupt the run); the run completes on the first node.</summary>
public sealed class RebalanceTests() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = WARNING"), IDisposable
{
    private const int Vms = 20;

    private readonly string dataDir = Directory.CreateTempSubdirectory("xcr-rebalance-").FullName;

    void IDisposable.Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dataDir, recursive: true);
    }

    private async Task<IHost> StartNodeAsync(IRunExecutor executor, string? seed)
    {
        var host = new HostBuilder().ConfigureServices(services => services.AddAkka("xcr", builder => builder
            .AddHocon("akka.loglevel = WARNING\nakka.cluster.sharding.rebalance-interval = 250ms", HoconAddMode.Prepend)
            .WithXcrClusterDefaults()
            .WithRemoting(new RemoteOptions { HostName = "127.0.0.1", Port = 0 })
            .WithClustering(new ClusterOptions { Roles = [ReplicationHosting.ControlRole] })
            .AddStartup((system, _) => Cluster.Get(system).Join(seed is null ? Cluster.Get(system).SelfAddress : Address.Parse(seed)))
            .WithSqlPersistence("SQLite.MS", ReplicationHosting.SqliteConnection(dataDir))
            .WithXcrSerializer()
            .WithReplicatedVms(executor, ReplicationHosting.ControlRole))).Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<IActorRef> RegionAsync(IHost node)
        => await node.Services.GetRequiredService<ActorRegistry>().GetAsync<ReplicatedVmRegion>();

    private static Address AddressOf(IHost node) => Cluster.Get(node.Services.GetRequiredService<ActorSystem>()).SelfAddress;

    private static async Task<ClusterShardingStats> StatsAsync(IActorRef region)
        => await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(10));

    [Fact]
    public async Task A_second_control_node_joining_leaves_running_vms_on_the_first_and_their_runs_complete()
    {
        var cancelled = CreateTestProbe();
        var first = new HeldExecutor(cancelled.Ref);
        using var one = await StartNodeAsync(first, null);
        var region = await RegionAsync(one);

        // Runs going in many shards, all on the first node: the least-shard strategy would hand half of them over.
        var requests = Enumerable.Range(0, Vms).Select(_ => Requests.For(Guid.NewGuid().ToString(), "job-1")).ToList();
        foreach (var request in requests)
        {
            Assert.False((await region.Ask<RunAccepted>(request, TimeSpan.FromSeconds(30))).Queued);
        }

        await AwaitConditionAsync(() => Task.FromResult(first.Running == Vms), TimeSpan.FromSeconds(30));
        var shards = (await StatsAsync(region)).Regions[AddressOf(one)].Stats.Count;

        var second = new HeldExecutor(cancelled.Ref);
        using var two = await StartNodeAsync(second, AddressOf(one).ToString());
        await AwaitAssertAsync(async () => Assert.Equal(2, (await StatsAsync(region)).Regions.Count), TimeSpan.FromSeconds(60));

        // Many rebalance rounds (every 250 ms here): a move would stop an entity and cancel its run.
        cancelled.ExpectNoMsg(TimeSpan.FromSeconds(5));
        var stats = await StatsAsync(region);
        Assert.Equal(shards, stats.Regions[AddressOf(one)].Stats.Count);
        Assert.Empty(stats.Regions[AddressOf(two)].Stats);

        first.FinishAll();
        foreach (var request in requests)
        {
            await AwaitAssertAsync(async () =>
            {
                var state = await region.Ask<ReplicatedVmState>(new GetVmStatus(request.VmUuid), TimeSpan.FromSeconds(5));
                Assert.Null(state.Current);
                Assert.Equal(RunStatus.Success, Assert.Single(state.History).Result.Status);
            }, TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, second.Running);
        await two.StopAsync();
        await one.StopAsync();
    }

    /// <summary>Holds its runs until <see cref="FinishAll"/>; tells the probe of a run cancelled.</summary>
    private sealed class HeldExecutor(IActorRef cancelled) : IRunExecutor
    {
        private readonly TaskCompletionSource finish = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int running;

        public int Running => Volatile.Read(ref running);

        public async Task<RunResult> ExecuteAsync(ReplicateVm request, Akka.Streams.IMaterializer materializer, CancellationToken ct,
        Action<RunProgress>? progress = null)
        {
            Interlocked.Increment(ref running);
            await using var registration = ct.Register(() => cancelled.Tell(request.RunId));
            await finish.Task.WaitAsync(ct);
            return Requests.Success(request.RunId);
        }

        public void FinishAll() => finish.SetResult();

        public Task CancelAllAsync(TimeSpan grace) => Task.CompletedTask;
    }
}
