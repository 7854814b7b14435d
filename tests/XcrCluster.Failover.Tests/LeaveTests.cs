using Xunit.Abstractions;

namespace XcrCluster.Failover.Tests;

/// <summary>`xcr cluster leave` (POST /api/cluster/leave) of the node a run is going on: its source side, one of the VMs'
/// entities and the singletons. Unlike a kill, the node cancels its runs and cleans up on the pools before it goes
/// (hocon/base.hocon's before-cluster-shutdown phase), and hands its shards and singletons over.</summary>
public sealed class LeaveTests(ITestOutputHelper output) : FailoverTest(output)
{
    [Fact]
    public async Task A_node_leaving_with_a_run_in_progress_ends_the_run_once_and_the_next_run_elsewhere_is_a_delta()
    {
        // One retry: sent when the source session stops with A, it reaches A's agent as it hands over; A's agent ignores
        // it (its node is leaving) and the orchestrator sends it again until the agent on C takes it.
        var (cluster, job, blocked) = await StartWithFullRunAsync(retries: 1);
        await using var stop = cluster;
        Assert.Equal("A", await cluster.AgentNodeAsync("alpha"));
        var leaving = await StartSlowDeltaAsync(cluster, job, 5);
        await cluster["B"].PostAsync($"/api/cluster/leave?address={Uri.EscapeDataString(cluster.Address("A"))}", new { });
        Log("A asked to leave mid-transfer");

        // A leaves within its shutdown's bounds (runs cancelled and cleaned up in at most 45 s, hocon/base.hocon), with
        // neither the failure detector nor the split brain resolver: its shards and singletons are handed over, and the
        // process ends by itself.
        Assert.Equal(0, await cluster.AwaitExitAsync("A"));
        Log("A ended");
        alpha.Pool.Faults.Clear();
        await cluster.AwaitRemovedAsync("A");
        Log("A removed");

        // Both VMs' parts end, none lost: the one whose entity is on B fails when its source session on A stops and is
        // retried on C, where alpha's agent moved (an exact delta); the one whose entity was on A is cancelled as A leaves
        // and recorded as failed or, once its entity started again on B, interrupted.
        var ended = await AwaitRunAsync(cluster, job, leaving, ThreeNodeCluster.FailoverLimit);
        Log("the run ended: " + string.Join("; ", ended.Select(v => $"{v!["status"]} ({v["error"]})")));
        // (The first attempt ends as A cancels its runs on leaving, or when its session stops: either way it is retried.)
        await AssertRetriedAsync(Part(ended, job.EntityOnB), "the run A left, retried elsewhere", cause: null);
        Assert.True(Part(ended, job.EntityOnA)["status"]!.GetValue<string>() is "failure" or "interrupted",
            NodeProcess.Describe(ended));
        await Poll.UntilAsync(ThreeNodeCluster.Meanwhile(async () => await cluster.AgentNodeAsync("alpha") == "C"), "alpha's agent on C",
            ThreeNodeCluster.FailoverLimit);

        // The next run, on the nodes left, is a delta; never lost, never duplicated: each VM recorded the run A left once.
        var next = await RunAsync(cluster["B"], job);
        await AssertExactAsync(await AwaitRunAsync(cluster, job, next), full: false, "run after the leave");
        Log("delta run after the leave done");
        await AssertPoolsCleanAsync(job, blocked, "after the leave");
        await AssertRunsAfterFirstAsync(cluster, job, leaving, next);
    }
}
