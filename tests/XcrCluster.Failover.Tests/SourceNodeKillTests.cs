using Xunit.Abstractions;

namespace XcrCluster.Failover.Tests;

/// <summary>kill -9 of the node running a run's source side (pool alpha's agent: its source sessions export the disks
/// and send them over the data channel) in the middle of the transfer.</summary>
public sealed class SourceNodeKillTests(ITestOutputHelper output) : FailoverTest(output)
{
    [Fact]
    public async Task Killing_the_source_node_mid_transfer_fails_the_run_cleanly_and_alphas_agent_restarts_on_the_other_alpha_node()
    {
        await using var cluster = await ThreeNodeCluster.StartAsync(alpha, beta, DataDir, Log);
        Log("three nodes up, pools registered");
        var job = await DefineJobAsync(cluster["B"], await TwoVmsInTwoShardsAsync());
        var blocked = await BlockedAsync(job);
        await AssertExactAsync(await AwaitRunAsync(cluster, job, await RunAsync(cluster["B"], job)), full: true, "first run");
        Log("full run done");

        // One entity on each control node; alpha's agent (the source side) on A, the oldest node with its role.
        Assert.Equal(new[] { "A", "B" }, (await Task.WhenAll(job.Vms.Select(cluster.EntityNodeAsync))).Order());
        Assert.Equal("A", await cluster.AgentNodeAsync("alpha"));
        Assert.Equal("B", await cluster.AgentNodeAsync("beta"));

        // A delta whose export crawls (256 KiB/s: the 4 written blocks take 30 s or more), killed once its bytes flow.
        WriteGuests(job, 7);
        var exported = alpha.Pool.Stats.BytesExported("/export_raw_vdi");
        alpha.Pool.Faults.ExportBytesPerSecond = 256 * 1024;
        var interrupted = await RunAsync(cluster["B"], job);
        await Poll.UntilAsync(() => alpha.Pool.Stats.BytesExported("/export_raw_vdi") > exported, "the delta's export to start");
        await cluster.KillAsync("A");
        Log("A killed mid-transfer");
        alpha.Pool.Faults.Clear();

        // The run ends for both VMs, neither succeeded: the one whose entity is on B fails when its source side is
        // gone, the one whose entity was on A is recorded as interrupted once the entity starts again on B (after the
        // failure detector and the split brain resolver removed A: ThreeNodeCluster.FailoverLimit).
        var ended = await AwaitRunAsync(cluster, job, interrupted, ThreeNodeCluster.FailoverLimit);
        Log($"interrupted run ended: {string.Join(", ", ended.Select(v => v!["status"]!.GetValue<string>()))}");
        Assert.All(ended, v => Assert.True(v!["status"]!.GetValue<string>() is "failure" or "interrupted", NodeProcess.Describe(v)));
        await cluster.AwaitRemovedAsync("A");
        Log("A removed");

        // Alpha's agent singleton starts on C, the other node with role pool-alpha; both entities live on B now.
        await Poll.UntilAsync(ThreeNodeCluster.Meanwhile(async () => await cluster.AgentNodeAsync("alpha") == "C"), "alpha's agent on C",
            ThreeNodeCluster.FailoverLimit);
        Log("alpha's agent on C");

        // The next run is a delta for both VMs (their chains as before the interrupted run), then nothing is left over.
        var next = await AwaitRunAsync(cluster, job, await RunAsync(cluster["B"], job));
        await AssertExactAsync(next, full: false, "run after the kill");
        Assert.Equal(new[] { "B", "B" }, await Task.WhenAll(job.Vms.Select(cluster.EntityNodeAsync)));
        Log("delta run after the kill done");
        await AssertPoolsCleanAsync(job, blocked, "after the kill");

        // Each VM has its three runs, the interrupted one recorded once.
        foreach (var vm in job.Vms)
        {
            var runs = (await cluster.VmRunsAsync(vm)).Select(r => r!["id"]!.GetValue<string>()).ToList();
            Assert.Equal(3, runs.Count);
            Assert.Single(runs, interrupted);
        }
    }
}
