using Xunit.Abstractions;

namespace XcrCluster.Failover.Tests;

/// <summary>kill -9 of the node running a run's source side (pool alpha's agent: its source sessions export the disks
/// and send them over the data channel) in the middle of the transfer.</summary>
public sealed class SourceNodeKillTests(ITestOutputHelper output) : FailoverTest(output)
{
    [Fact]
    public async Task Killing_the_source_node_mid_transfer_fails_the_run_cleanly_and_alphas_agent_restarts_on_the_other_alpha_node()
    {
        var (cluster, job, blocked) = await StartWithFullRunAsync();
        await using var stop = cluster;

        // Alpha's agent (the source side) runs on A, the oldest node with its role; beta's on B.
        Assert.Equal("A", await cluster.AgentNodeAsync("alpha"));
        Assert.Equal("B", await cluster.AgentNodeAsync("beta"));
        var interrupted = await StartSlowDeltaAsync(cluster, job, 7);
        await cluster.KillAsync("A");
        Log("A killed mid-transfer");
        alpha.Pool.Faults.Clear();

        // The run ends for both VMs once the failure detector and the split brain resolver removed A
        // (ThreeNodeCluster.FailoverLimit): the VM whose entity is on B fails when its source session's node is downed
        // (the watch on it ends) and is tried again (the job's one retry), its source side now on C: an exact delta. The
        // VM whose entity was on A is recorded as interrupted once its entity starts again on B.
        var ended = await AwaitRunAsync(cluster, job, interrupted, ThreeNodeCluster.FailoverLimit);
        Log("the run ended: " + string.Join("; ", ended.Select(v => $"{v!["status"]} ({v["error"]})")));
        Assert.Equal("interrupted", Part(ended, job.EntityOnA)["status"]!.GetValue<string>());
        await AssertRetriedAsync(Part(ended, job.EntityOnB), "the VM whose entity is on B");
        await cluster.AwaitRemovedAsync("A");
        Log("A removed");

        // Alpha's agent singleton starts on C, the other node with role pool-alpha.
        await Poll.UntilAsync(ThreeNodeCluster.Meanwhile(async () => await cluster.AgentNodeAsync("alpha") == "C"), "alpha's agent on C",
            ThreeNodeCluster.FailoverLimit);
        Log("alpha's agent on C");

        // The next run is a delta for both VMs (their chains as before the interrupted run), both entities now on B, and
        // nothing is left over; the interrupted run is recorded once.
        var next = await RunAsync(cluster["B"], job);
        await AssertExactAsync(await AwaitRunAsync(cluster, job, next), full: false, "run after the kill");
        Assert.Equal(new[] { "B", "B" }, await Task.WhenAll(job.Vms.Select(cluster.EntityNodeAsync)));
        Log("delta run after the kill done");
        await AssertPoolsCleanAsync(job, blocked, "after the kill");
        await AssertRunsAfterFirstAsync(cluster, job, interrupted, next);
    }
}
