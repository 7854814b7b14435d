using Akka.Actor;
using Akka.Cluster;
using XcrCluster.Domain.Pools;

namespace XcrCluster.Actors.Tests;

/// <summary>A pool's agent singleton, started on demand on a node serving every pool, enforcing the pool's limits
/// for every run of the cluster through the gate runs use.</summary>
public sealed class PoolAgentTests() : Akka.TestKit.Xunit2.TestKit(SingleNodeCluster.Config)
{
    [Fact]
    public async Task Slots_are_granted_up_to_the_limits_first_come_first_served_and_given_back()
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(30));
        var control = Sys.ActorOf(ControlPlaneActor.Props());
        var agents = Sys.ActorOf(PoolAgentsActor.Props(() => Task.FromResult(control), new PoolLimits(Snapshots: 2, Transfers: 3)),
            "pool-agents");
        var gate = new PoolAgentGate(() => Task.FromResult(agents));
        var timeout = TimeSpan.FromSeconds(30);

        var first = await gate.AcquireAsync("alpha", SlotKind.Snapshot, 1, default).WaitAsync(timeout);
        await gate.AcquireAsync("alpha", SlotKind.Snapshot, 1, default).WaitAsync(timeout);
        var third = gate.AcquireAsync("alpha", SlotKind.Snapshot, 1, default);
        await AwaitLoadAsync(agents, "alpha", new PoolLoad("alpha", 2, 0, 1));
        Assert.False(third.IsCompleted);
        await first.DisposeAsync();
        await third.WaitAsync(timeout);
        await AwaitLoadAsync(agents, "alpha", new PoolLoad("alpha", 2, 0, 0));

        // More than the capacity takes all of it; the next waits, and a withdrawn request leaves the queue.
        var whole = await gate.AcquireAsync("alpha", SlotKind.Transfer, 5, default).WaitAsync(timeout);
        using var cancel = new CancellationTokenSource();
        var withdrawn = gate.AcquireAsync("alpha", SlotKind.Transfer, 1, cancel.Token);
        await AwaitLoadAsync(agents, "alpha", new PoolLoad("alpha", 2, 3, 1));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawn);
        await AwaitLoadAsync(agents, "alpha", new PoolLoad("alpha", 2, 3, 0));
        await whole.DisposeAsync();

        // Another pool has its own agent and its own slots.
        await gate.AcquireAsync("beta", SlotKind.Snapshot, 1, default).WaitAsync(timeout);
        await AwaitLoadAsync(agents, "beta", new PoolLoad("beta", 1, 0, 0));
        await AwaitLoadAsync(agents, "alpha", new PoolLoad("alpha", 2, 0, 0));
    }

    [Fact]
    public async Task The_agent_reads_its_pool_live_and_says_why_when_it_cannot()
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(30));
        await using var alpha = await SimHost.StartAsync();
        var registry = new StaticPoolRegistry(new Dictionary<string, Xapi.XapiEndpoint>
        {
            ["alpha"] = Xapi.XapiEndpoint.Parse($"http://root:password@{alpha.Url.Authority}"),
            ["down"] = Xapi.XapiEndpoint.Parse("http://root:password@127.0.0.1:1"),
        });
        var control = Sys.ActorOf(ControlPlaneActor.Props());
        await using var mirrors = new PoolMirrors();
        var targets = new AgentServices(registry,
            () => Task.FromException<DataChannel.ChannelReceiver>(new InvalidOperationException("no data channel in this test")))
        {
            Mirrors = mirrors,
        };
        var agents = Sys.ActorOf(PoolAgentsActor.Props(() => Task.FromResult(control), targets: targets), "pool-agents");
        var timeout = TimeSpan.FromSeconds(30);

        var inventory = Assert.IsType<PoolInventory>(await agents.Ask<IPoolAgentMessage>(new GetInventory("alpha"), timeout));
        Assert.Equal("alpha", inventory.Pool);
        Assert.Equal(["db01", "tiny01", "web01"], inventory.Vms.Select(v => v.Name));
        Assert.Equal(2, inventory.Srs.Count);

        // The next read comes from the pool's mirror, as the pool is now (renamed by someone else just before).
        var db01 = await alpha.UuidAsync("VM", "db01");
        var reads = alpha.Pool.Stats.CallCounts().GetValueOrDefault("VM.get_all_records");
        await using (var other = await Xapi.XapiClient.ConnectAsync(await registry.EndpointAsync("alpha")))
        {
            await other.CallAsync("VM.set_name_label", await other.GetRefByUuidAsync<Xapi.Records.VmRecord>(db01), "db02");
        }

        var again = Assert.IsType<PoolInventory>(await agents.Ask<IPoolAgentMessage>(new GetInventory("alpha"), timeout));
        Assert.Equal(["db02", "tiny01", "web01"], again.Vms.Select(v => v.Name));
        Assert.Equal(reads, alpha.Pool.Stats.CallCounts().GetValueOrDefault("VM.get_all_records"));

        var down = Assert.IsType<InventoryFailed>(await agents.Ask<IPoolAgentMessage>(new GetInventory("down"), timeout));
        Assert.Contains("127.0.0.1:1", down.Reason);
        Assert.Contains("unknown pool",
            Assert.IsType<InventoryFailed>(await agents.Ask<IPoolAgentMessage>(new GetInventory("nosuch"), timeout)).Reason);
    }

    [Fact]
    public async Task A_node_without_target_services_answers_inventory_failed()
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(30));
        var control = Sys.ActorOf(ControlPlaneActor.Props());
        var agents = Sys.ActorOf(PoolAgentsActor.Props(() => Task.FromResult(control)), "pool-agents");
        var failed = Assert.IsType<InventoryFailed>(
            await agents.Ask<IPoolAgentMessage>(new GetInventory("alpha"), TimeSpan.FromSeconds(30)));
        Assert.Equal("alpha", failed.Pool);
        Assert.Contains("no XAPI access", failed.Reason);
    }

    [Fact]
    public async Task A_lease_held_past_the_pools_bound_is_reclaimed_with_a_warning_naming_its_holder()
    {
        var agents = await StartAgentsAsync(new PoolLimits(Snapshots: 1) { MaxHold = TimeSpan.FromMilliseconds(500) });
        var gate = new PoolAgentGate(() => Task.FromResult(agents));
        var node = Cluster.Get(Sys).SelfAddress.ToString();
        await EventFilter.Warning(contains: $"of node {node} held longer than 00:00:00.5000000: reclaimed")
            .ExpectOneAsync(TimeSpan.FromSeconds(30), async () =>
        {
            await gate.AcquireAsync("alpha", SlotKind.Snapshot, 1, default).WaitAsync(TimeSpan.FromSeconds(30)); // never given back
            await gate.AcquireAsync("alpha", SlotKind.Snapshot, 1, default).WaitAsync(TimeSpan.FromSeconds(30));
        });
    }

    [Fact]
    public async Task A_request_waiting_past_the_pools_bound_fails_naming_the_pool()
    {
        var agents = await StartAgentsAsync(new PoolLimits(Snapshots: 1) { MaxWait = TimeSpan.FromMilliseconds(500) });
        var gate = new PoolAgentGate(() => Task.FromResult(agents));
        await using var held = await gate.AcquireAsync("alpha", SlotKind.Snapshot, 1, default).WaitAsync(TimeSpan.FromSeconds(30));
        var refused = await Assert.ThrowsAsync<TimeoutException>(
            () => gate.AcquireAsync("alpha", SlotKind.Snapshot, 1, default).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.StartsWith("pool alpha: no snapshot slot free within 00:00:00.5", refused.Message);
        await AwaitLoadAsync(agents, "alpha", new PoolLoad("alpha", 1, 0, 0));
    }

    private async Task<IActorRef> StartAgentsAsync(PoolLimits limits)
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        await AwaitConditionAsync(() => Task.FromResult(cluster.SelfMember.Status == MemberStatus.Up), TimeSpan.FromSeconds(30));
        var control = Sys.ActorOf(ControlPlaneActor.Props());
        return Sys.ActorOf(PoolAgentsActor.Props(() => Task.FromResult(control), limits), "pool-agents");
    }

    private async Task AwaitLoadAsync(IActorRef agents, string pool, PoolLoad expected)
        => await AwaitAssertAsync(async () => Assert.Equal(expected with { Node = Cluster.Get(Sys).SelfAddress.ToString() },
            await agents.Ask<PoolLoad>(new GetPoolLoad(pool), TimeSpan.FromSeconds(5))), TimeSpan.FromSeconds(30));
}
