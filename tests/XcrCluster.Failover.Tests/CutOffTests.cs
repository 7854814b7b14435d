using Xunit.Abstractions;

namespace XcrCluster.Failover.Tests;

/// <summary>The oldest of the three nodes cut off (frozen: no answer, no error, as behind a dropped link) while it runs a
/// transfer's source side, and the split brain resolver's decision (hocon/cluster.hocon: keep-oldest, down-if-alone,
/// stable-after 20 s): the oldest is alone on its side and two members are on the other, so the two down it and go on.</summary>
public sealed class CutOffTests(ITestOutputHelper output) : FailoverTest(output)
{
    [Fact]
    public async Task When_the_oldest_node_is_cut_off_mid_transfer_the_two_others_down_it_and_the_next_run_is_a_delta()
    {
        var (cluster, job, blocked) = await StartWithFullRunAsync();
        await using var stop = cluster;
        Assert.Equal("A", await cluster.AgentNodeAsync("alpha"));
        var address = cluster.Address("A");
        var cut = await StartSlowDeltaAsync(cluster, job, 11);
        var frozen = await cluster.FreezeAsync("A");
        Log("A cut off mid-transfer");
        alpha.Pool.Faults.Clear();
        try
        {
            await cluster.AwaitRemovedAsync("A");
            Log("A downed and removed");
            var decision = cluster.RunningLogs().Split('\n').FirstOrDefault(l => l.Contains("SBR took decision", StringComparison.Ordinal));
            Assert.True(decision is not null, "no split brain resolver decision logged by B or C");
            Assert.Contains("DownUnreachable", decision);
            Assert.Contains(address, decision);

            // The run ends as after a crash: the VM whose entity is on B retried with alpha's agent on C, the other
            // recorded interrupted when its entity starts on B.
            var ended = await AwaitRunAsync(cluster, job, cut, ThreeNodeCluster.FailoverLimit);
            Log("the run ended: " + string.Join("; ", ended.Select(v => $"{v!["status"]} ({v["error"]})")));
            Assert.Equal("interrupted", Part(ended, job.EntityOnA)["status"]!.GetValue<string>());
            await AssertRetriedAsync(Part(ended, job.EntityOnB), "the VM whose entity is on B", cause: null);
        }
        finally
        {
            // Running again, A learns it was downed and stops rather than go on as a cluster of its own.
            Log($"A thawed and ended by itself ({await ThreeNodeCluster.ThawAsync(frozen)})");
        }

        var next = await RunAsync(cluster["B"], job);
        await AssertExactAsync(await AwaitRunAsync(cluster, job, next), full: false, "run after the cut-off");
        await AssertPoolsCleanAsync(job, blocked, "after the cut-off");
        await AssertRunsAfterFirstAsync(cluster, job, cut, next);
    }
}
