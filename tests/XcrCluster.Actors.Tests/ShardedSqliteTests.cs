using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;

namespace XcrCluster.Actors.Tests;

/// <summary>A one-node cluster composed with Akka.Hosting as a node does it: the ReplicatedVm region on SQLite,
/// runs carried out by the real engine between two simulated pools; history survives a restart.</summary>
[Collection("processes")]
public sealed class ShardedSqliteTests : IAsyncLifetime
{
    private readonly string dataDir = Directory.CreateTempSubdirectory("xcr-node-").FullName;
    private SimHost source = null!;
    private SimHost target = null!;

    public async Task InitializeAsync()
    {
        source = await SimHost.StartAsync();
        target = await SimHost.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await source.DisposeAsync();
        await target.DisposeAsync();
        Directory.Delete(dataDir, recursive: true);
    }

    private async Task<IHost> StartNodeAsync()
    {
        var pools = new StaticPoolRegistry(new Dictionary<string, XapiEndpoint>
        {
            ["alpha"] = XapiEndpoint.Parse($"http://root:password@{source.Url.Authority}"),
            ["beta"] = XapiEndpoint.Parse($"http://root:password@{target.Url.Authority}"),
        });
        var host = new HostBuilder().ConfigureServices(services => services.AddAkka("xcr", builder => builder
            .WithLoopbackCluster()
            .WithSqlPersistence("SQLite.MS", ReplicationHosting.SqliteConnection(dataDir))
            .WithXcrSerializer()
            .WithReplicatedVms(new XapiRunExecutor(pools)))).Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<ReplicatedVmState> AwaitIdleAsync(IActorRef region, string vm, int runs)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var state = await region.Ask<ReplicatedVmState>(new GetVmStatus(vm), TimeSpan.FromSeconds(30));
            if (state.Current is null && state.History.Count >= runs)
            {
                return state;
            }

            Assert.True(DateTime.UtcNow < deadline, $"VM {vm}: {state.History.Count} of {runs} runs after 120 s");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_full_then_a_delta_through_the_region_and_the_history_survives_a_restart()
    {
        string vmUuid;
        using (var rpc = source.Json())
        {
            await rpc.LoginAsync();
            var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "db01"))!)[0]!;
            vmUuid = (string)(await rpc.CallAsync("VM.get_uuid", vm))!;
        }

        string srUuid;
        using (var rpc = target.Json())
        {
            await rpc.LoginAsync();
            srUuid = (string)(await rpc.AllRecordsAsync("SR")).Values.First(s => (string)s["name_label"]! == "Local storage")["uuid"]!;
        }

        var job = new JobRef("job-1", "nightly", "schedule-1", "hourly");
        ReplicateVm Request() => new(vmUuid, Guid.NewGuid().ToString(), "alpha", job, [new TargetRef("beta", srUuid)], new ReplicationSettings());

        using (var node = await StartNodeAsync())
        {
            var region = await node.Services.GetRequiredService<ActorRegistry>().GetAsync<ReplicatedVmRegion>();
            Assert.False((await region.Ask<RunAccepted>(Request(), TimeSpan.FromSeconds(30))).Queued);
            var state = await AwaitIdleAsync(region, vmUuid, 1);
            Assert.True(state.History[0].Result.Status == RunStatus.Success, state.History[0].Result.Error);
            Assert.True(state.History[0].Result.Full);
            await node.StopAsync();
        }

        using (var node = await StartNodeAsync())
        {
            var region = await node.Services.GetRequiredService<ActorRegistry>().GetAsync<ReplicatedVmRegion>();
            var recovered = await AwaitIdleAsync(region, vmUuid, 1);
            Assert.Single(recovered.History);
            Assert.NotNull(recovered.LastSuccess);
            XapiSim.Storage.GuestWorkload.Write(source.Pool, vmUuid, 0, 2, 4);
            await region.Ask<RunAccepted>(Request(), TimeSpan.FromSeconds(30));
            var state = await AwaitIdleAsync(region, vmUuid, 2);
            Assert.True(state.History[1].Result.Status == RunStatus.Success, state.History[1].Result.Error);
            Assert.False(state.History[1].Result.Full);
            Assert.Single(Assert.Single(state.Chains, c => c.Key.SrUuid.Value == srUuid).RestorePoints);
            await node.StopAsync();
        }
    }
}
