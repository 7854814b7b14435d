using System.Text.Json.Nodes;

namespace XcrCluster.Node.Tests;

/// <summary>`GET /api/cluster` over two nodes: each member's roles, health, the addresses it serves, the pool agents it hosts and its
/// shards, which each node tells about itself; a member that no longer answers is shown so, and the request does not hang.</summary>
public sealed class ClusterShowTests : TwoPoolsTest
{
    [Fact]
    public async Task Each_member_shows_its_roles_addresses_agents_shards_and_health()
    {
        var (first, second) = (DataDir("xcr-show1-"), DataDir("xcr-show2-"));
        using var control = await NodeProcess.StartAsync(first, "--roles", "control,pool-alpha");
        using var near = await NodeProcess.JoinAsync(second, first, "pool-beta");
        var (jobId, _, _) = await TinyJobAsync(control);
        // A run: both pools' agents start, and the VM's entity on the control node.
        Assert.Equal("success", (await control.AwaitRunAsync(jobId, await control.RunAsync(jobId)))["status"]!.GetValue<string>());

        JsonNode cluster = null!;
        await Poll.UntilAsync(async () => Member(cluster = await near.GetAsync("/api/cluster"), first)["shards"]!.AsArray().Count > 0
            && Member(cluster, second)["agents"]?.AsArray().Count == 1, "both nodes' agents and the control node's shards");
        foreach (var (dir, roles, agent) in new[] { (first, "control,pool-alpha", "alpha"), (second, "pool-beta", "beta") })
        {
            var member = Member(cluster, dir);
            var endpoint = NodeProcess.Endpoint(dir);
            Assert.Equal(roles, string.Join(',', member["roles"]!.AsArray().Select(r => r!.GetValue<string>())));
            Assert.Equal(("Up", true, true), (member["status"]!.GetValue<string>(), member["reachable"]!.GetValue<bool>(),
                member["answered"]!.GetValue<bool>()));
            Assert.Equal((endpoint["http"], endpoint["data"]), (member["http"]!.GetValue<string>(), member["data"]!.GetValue<string>()));
            Assert.Equal([agent], member["agents"]!.AsArray().Select(a => a!.GetValue<string>()));
        }

        var shards = Member(cluster, first)["shards"]!.AsArray().Single()!;
        Assert.Equal(("replicated-vm", 1, 1), (shards["region"]!.GetValue<string>(), shards["shards"]!.GetValue<int>(),
            shards["entities"]!.GetValue<int>()));
        Assert.Empty(Member(cluster, second)["shards"]!.AsArray());

        // A member gone without leaving: still listed (until downed), its own facts unknown; the request still answers.
        Assert.Equal(137, await near.Process.SignalAsync("KILL"));
        var gone = Member(await control.GetAsync("/api/cluster"), second);
        Assert.False(gone["answered"]!.GetValue<bool>(), NodeProcess.Describe(gone));
        Assert.Null(gone["http"]);
        Assert.Null(gone["agents"]);
        Assert.Equal(0, await control.Process.SignalAsync("TERM"));
    }

    private static JsonNode Member(JsonNode cluster, string dataDir)
        => cluster["members"]!.AsArray().Single(m => m!["address"]!.GetValue<string>() == NodeProcess.Endpoint(dataDir)["akka"])!;
}
