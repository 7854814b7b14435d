using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Node.Tests;

/// <summary>The design's shape across processes: a control node keeping the books only, a node near pool alpha and one
/// near pool beta. A run's source side runs on alpha's node, its target side on beta's, and the blocks go from one to
/// the other over the data channel: the control node orchestrates and touches neither the pools nor the bytes.</summary>
public sealed class ThreeNodeTests : TwoPoolsTest
{
    private readonly string controlDir;
    private readonly string alphaDir;
    private readonly string betaDir;

    public ThreeNodeTests() => (controlDir, alphaDir, betaDir) = (DataDir("xcr-ctl-"), DataDir("xcr-alpha-"), DataDir("xcr-beta-"));

    [Fact]
    public async Task Each_pool_is_read_and_written_only_by_the_node_serving_it_and_the_control_node_moves_no_byte()
    {
        using var control = await NodeProcess.StartAsync(controlDir, "--roles", "control");
        using var alphaNode = await NodeProcess.JoinAsync(alphaDir, controlDir, "pool-alpha");
        using var betaNode = await NodeProcess.JoinAsync(betaDir, controlDir, "pool-beta");
        var (controlAgent, alphaAgent, betaAgent) = (Address(controlDir), Address(alphaDir), Address(betaDir));
        await Poll.UntilAsync(async () => (await control.GetAsync("/api/cluster"))["members"]!.AsArray()
            .Count(m => m!["status"]!.GetValue<string>() == "Up") == 3, "three members up");
        await control.AddPoolAsync("alpha", alpha);
        await control.AddPoolAsync("beta", beta);

        // A pool no node serves is not stored: nobody could reach it.
        var unserved = await control.PostAsync("/api/pools", new { name = "gamma", url = beta.Url.ToString(), username = "root",
            password = "password" }, 503);
        Assert.Equal("no node serves pool gamma: start a node with role pool-gamma (or pool-all), then register it",
            unserved["error"]!.GetValue<string>());
        foreach (var (pool, dir) in new[] { ("alpha", alphaDir), ("beta", betaDir) })
        {
            Assert.Equal(NodeProcess.Endpoint(dir)["akka"], (await control.GetAsync($"/api/pools/{pool}/load"))["node"]!.GetValue<string>());
        }

        var vm = await alpha.UuidAsync("VM", "web01");
        var job = await control.PostAsync("/api/jobs", new
        {
            name = "three", sourcePool = "alpha", vms = new[] { vm },
            targets = new[] { new { pool = "beta", sr = await beta.UuidAsync("SR", "Local storage") } },
        });
        var jobId = job["id"]!.GetValue<string>();

        foreach (var (run, full) in new[] { (1, true), (2, false) })
        {
            var result = await control.AwaitRunAsync(jobId, await control.RunAsync(jobId));
            Assert.True(result["status"]!.GetValue<string>() == "success", NodeProcess.Describe(result));
            Assert.Equal(full, result["full"]!.GetValue<bool>());
            Assert.Equal(await alpha.DiskChecksumsAsync(result["sourceSnapshot"]!.GetValue<string>()),
                await beta.DiskChecksumsAsync(result["targets"]![0]!["restorePointUuid"]!.GetValue<string>()));
            Assert.Equal(2L * run, (await betaNode.GetAsync("/api/node"))["channel"]!["transfersReceived"]!.GetValue<long>());
            GuestWorkload.Write(alpha.Pool, vm, 0, 3, run);
            alpha.Pool.Collector.RunOnce();
        }

        // Every export byte of alpha was read by alpha's node, every import byte into beta written by beta's node.
        var exported = alpha.Pool.Stats.BytesExported("/export_raw_vdi");
        var imported = beta.Pool.Stats.BytesImported("/import_raw_vdi");
        Assert.True(exported > 0 && imported > 0);
        Assert.Equal(exported, Seen(alpha, alphaAgent).Exported);
        Assert.Equal(imported, Seen(beta, betaAgent).Imported);
        Assert.Equal(0, Seen(alpha, betaAgent).Requests);
        Assert.Equal(0, Seen(beta, alphaAgent).Requests);
        // The control node never reached either pool, not even to check a registration's login (the serving nodes did).
        Assert.Equal((0L, 0L), (Requests(alpha, controlAgent), Requests(beta, controlAgent)));
        Assert.True(Requests(beta, betaAgent) > 0 && Requests(alpha, alphaAgent) > 0);

        // No block went through the control node's data channel (nor into alpha's: it only sends).
        Assert.Equal(0L, (await control.GetAsync("/api/node"))["channel"]!["transfersReceived"]!.GetValue<long>());
        Assert.Equal(0L, (await alphaNode.GetAsync("/api/node"))["channel"]!["transfersReceived"]!.GetValue<long>());
        foreach (var node in new[] { betaNode, alphaNode, control })
        {
            Assert.Equal(0, await node.Process.SignalAsync("TERM"));
        }
    }

    /// <summary>A node's Akka address: the end of the User-Agent it names itself with (`xcr-node/VERSION (ADDRESS)`).</summary>
    private static string Address(string dir) => $"({NodeProcess.Endpoint(dir)["akka"]})";

    /// <summary>What reached a pool from the node with this address (nothing: zeros).</summary>
    private static (long Requests, long Exported, long Imported) Seen(SimHost sim, string address)
        => sim.Pool.Stats.ByAgent().Where(a => a.Key.StartsWith("xcr-node/", StringComparison.Ordinal)
            && a.Key.EndsWith(address, StringComparison.Ordinal)).Select(a => a.Value).SingleOrDefault();

    private static long Requests(SimHost sim, string address) => Seen(sim, address).Requests;
}
