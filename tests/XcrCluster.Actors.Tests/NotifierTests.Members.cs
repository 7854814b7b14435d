using Akka.Actor;
using Akka.Cluster;

namespace XcrCluster.Actors.Tests;

/// <summary>Node up and down from a second member of the test's cluster: joining, leaving, stopping without leaving.</summary>
public sealed partial class NotifierTests
{
    [Fact]
    public async Task A_member_joining_is_up_and_leaving_is_down()
    {
        await AddAsync(Webhook("hook", "node-up", "node-down"));
        await StartAsync(Fast);
        var other = ActorSystem.Create(Sys.Name, SingleNodeCluster.Config);
        try
        {
            Cluster.Get(other).Join(Cluster.Get(Sys).SelfAddress);
            await Poll.UntilAsync(() => hook.Received.Count >= 1, "node-up", TimeSpan.FromSeconds(60));
            await Cluster.Get(other).LeaveAsync();
            await Poll.UntilAsync(() => hook.Received.Count >= 2, "node-down", TimeSpan.FromSeconds(60));
        }
        finally
        {
            await other.Terminate();
        }

        var address = Cluster.Get(other).SelfAddress.ToString();
        var (up, down) = (hook.Received.ElementAt(0).Json, hook.Received.ElementAt(1).Json);
        Assert.Equal(("node-up", address, "pool-all"), ((string)up["event"]!, (string)up["address"]!, (string)up["roles"]![0]!));
        Assert.Equal(("node-down", address, "left"), ((string)down["event"]!, (string)down["address"]!, (string)down["reason"]!));
        Assert.Equal(2, hook.Received.Count);
    }

    [Fact]
    public async Task A_member_that_stops_without_leaving_is_down_as_unreachable()
    {
        await AddAsync(Webhook("hook", "node-down"));
        await StartAsync(Fast);
        var other = ActorSystem.Create(Sys.Name, Akka.Configuration.ConfigurationFactory.ParseString("""
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            akka.cluster.run-coordinated-shutdown-when-down = off
            """).WithFallback(SingleNodeCluster.Config));
        var address = Cluster.Get(other).SelfAddress.ToString();
        Cluster.Get(other).Join(Cluster.Get(Sys).SelfAddress);
        await Poll.UntilAsync(() => Cluster.Get(Sys).State.Members.Any(m => m.Address.ToString() == address && m.Status == MemberStatus.Up),
            "the second member up", TimeSpan.FromSeconds(60));
        await other.Terminate(); // no leave: the others stop hearing it
        await Poll.UntilAsync(() => !hook.Received.IsEmpty, "node-down", TimeSpan.FromSeconds(60));
        var down = Assert.Single(hook.Received).Json;
        Assert.Equal(("node-down", address, "unreachable"), ((string)down["event"]!, (string)down["address"]!, (string)down["reason"]!));
    }
}
