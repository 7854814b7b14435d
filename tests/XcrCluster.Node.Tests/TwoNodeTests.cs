namespace XcrCluster.Node.Tests;

/// <summary>Two xcr-node processes on loopback: the books (ReplicatedVm region, control plane, SQLite) on the first,
/// pool beta's agent alone on the second, which joins with the Akka address from the first's DATA/endpoint.</summary>
public sealed class TwoNodeTests : IAsyncLifetime
{
    private readonly string first = Path.Combine(Path.GetTempPath(), "xcr-node1-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly string second = Path.Combine(Path.GetTempPath(), "xcr-node2-" + Guid.NewGuid().ToString("N")[..10]);
    private SimHost alpha = null!;
    private SimHost beta = null!;

    public async Task InitializeAsync()
    {
        alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha" });
        beta = await SimHost.StartAsync(o => o with { PoolName = "beta" });
    }

    public async Task DisposeAsync()
    {
        await alpha.DisposeAsync();
        await beta.DisposeAsync();
        SimHost.DeleteDataDir(first);
        SimHost.DeleteDataDir(second);
    }

    [Fact]
    public async Task A_pool_agent_runs_on_the_node_with_its_role_and_serves_runs_started_on_the_control_node()
    {
        using var control = await NodeProcess.StartAsync(first, "--roles", "control,pool-alpha");
        var seed = Endpoint(first)["akka"];
        using var near = await NodeProcess.StartAsync(second, "--roles", "pool-beta", "--seed-nodes", seed);
        var nearAddress = Endpoint(second)["akka"];

        var cluster = await control.GetAsync("/api/cluster");
        Assert.Equal(2, cluster["members"]!.AsArray().Count(m => m!["status"]!.GetValue<string>() == "Up"));
        Assert.Contains(cluster["members"]!.AsArray(), m => m!["address"]!.GetValue<string>() == nearAddress
            && m["roles"]!.AsArray().Select(r => r!.GetValue<string>()).SequenceEqual(["pool-beta"]));

        await control.AddPoolAsync("alpha", alpha);
        await control.AddPoolAsync("beta", beta);
        Assert.Equal(nearAddress, (await control.GetAsync("/api/pools/beta/load"))["node"]!.GetValue<string>());
        Assert.Equal(seed, (await control.GetAsync("/api/pools/alpha/load"))["node"]!.GetValue<string>());

        // The second node has no journal of its own, yet answers through proxies to the control node.
        Assert.Equal(2, (await near.GetAsync("/api/pools")).AsArray().Count);
        Assert.False(File.Exists(Path.Combine(second, "xcr.db")));

        var vm = await alpha.UuidAsync("VM", "tiny01");
        var job = await control.PostAsync("/api/jobs", new
        {
            name = "across", sourcePool = "alpha", vms = new[] { vm }, targets = new[] { new { pool = "beta", sr = await beta.UuidAsync("SR", "Local storage") } },
        });
        var jobId = job["id"]!.GetValue<string>();
        var run = await control.AwaitRunAsync(jobId, await control.RunAsync(jobId));
        Assert.True(run["status"]!.GetValue<string>() == "success", NodeProcess.Describe(run));

        // Slots went back to the agent on the other node.
        var load = await control.GetAsync("/api/pools/beta/load");
        Assert.Equal(0, load["transfersInUse"]!.GetValue<int>() + load["snapshotsInUse"]!.GetValue<int>());

        Assert.Equal(0, await near.Process.SignalAsync("TERM"));
        Assert.Equal(0, await control.Process.SignalAsync("TERM"));
    }

    private static Dictionary<string, string> Endpoint(string dataDir)
        => File.ReadAllLines(Path.Combine(dataDir, "endpoint")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
}
