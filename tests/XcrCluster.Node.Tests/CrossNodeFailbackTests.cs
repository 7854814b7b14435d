namespace XcrCluster.Node.Tests;

/// <summary>A failback reads the replica's pool and writes the original's from one node; with the two pools served by two
/// nodes it is refused, naming both nodes, and nothing changes (over the data channel between nodes: not supported yet).</summary>
public sealed class CrossNodeFailbackTests : TwoPoolsTest
{
    [Fact]
    public async Task A_failback_between_pools_served_by_two_nodes_is_refused_with_the_reason_and_changes_nothing()
    {
        var (first, second) = (DataDir("xcr-node1-"), DataDir("xcr-node2-"));
        using var control = await NodeProcess.StartAsync(first, "--roles", "control,pool-alpha");
        using var near = await NodeProcess.JoinAsync(second, first, "pool-beta");
        await control.AddPoolAsync("alpha", alpha);
        await control.AddPoolAsync("beta", beta);
        var vm = await alpha.UuidAsync("VM", "tiny01");
        var job = await control.PostAsync("/api/jobs", new
        {
            name = "across", sourcePool = "alpha", vms = new[] { vm },
            targets = new[] { new { pool = "beta", sr = await beta.UuidAsync("SR", "Local storage") } },
        });
        var jobId = job["id"]!.GetValue<string>();
        var run = await control.AwaitRunAsync(jobId, await control.RunAsync(jobId));
        Assert.True(run["status"]!.GetValue<string>() == "success", NodeProcess.Describe(run));
        await control.PostAsync("/api/failover", new { vm, mode = "force", yes = true });
        var before = (await alpha.AllRecordsAsync("VM")).Count + (await beta.AllRecordsAsync("VM")).Count;

        var refused = await control.PostAsync("/api/failback", new { vm, resume = true }, expected: 409);
        var error = refused["error"]!.GetValue<string>();
        Assert.Contains("a failback needs one node serving both pools", error);
        Assert.Contains(NodeProcess.Endpoint(second)["akka"], error);
        Assert.Equal(before, (await alpha.AllRecordsAsync("VM")).Count + (await beta.AllRecordsAsync("VM")).Count);

        Assert.Equal(0, await near.Process.SignalAsync("TERM"));
        Assert.Equal(0, await control.Process.SignalAsync("TERM"));
    }
}
