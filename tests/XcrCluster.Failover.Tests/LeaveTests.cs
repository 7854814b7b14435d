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
        await using var cluster = await ThreeNodeCluster.StartAsync(alpha, beta, DataDir, Log);
        Log("three nodes up, pools registered");
        var job = await DefineJobAsync(cluster["B"], await TwoVmsInTwoShardsAsync());
        var blocked = await BlockedAsync(job);
        await AssertExactAsync(await AwaitRunAsync(cluster, job, await RunAsync(cluster["B"], job)), full: true, "first run");
        Log("full run done");
        Assert.Equal(new[] { "A", "B" }, (await Task.WhenAll(job.Vms.Select(cluster.EntityNodeAsync))).Order());

        WriteGuests(job, 5);
        var exported = alpha.Pool.Stats.BytesExported("/export_raw_vdi");
        alpha.Pool.Faults.ExportBytesPerSecond = 256 * 1024;
        var leaving = await RunAsync(cluster["B"], job);
        await Poll.UntilAsync(() => alpha.Pool.Stats.BytesExported("/export_raw_vdi") > exported, "the delta's export to start");
        await cluster["B"].PostAsync($"/api/cluster/leave?address={Uri.EscapeDataString(cluster.Address("A"))}", new { });
        Log("A asked to leave mid-transfer");

        // A leaves within its shutdown's bounds (runs cancelled and cleaned up in at most 45 s, hocon/base.hocon), without
        // the failure detector or the split brain resolver: its shards and singletons are handed over.
        await cluster.AwaitRemovedAsync("A");
        Log("A removed");
        alpha.Pool.Faults.Clear();
        var ended = await AwaitRunAsync(cluster, job, leaving, ThreeNodeCluster.FailoverLimit);
        Log($"the run A left ended: {string.Join(", ", ended.Select(v => v!["status"]!.GetValue<string>()))}");
        Assert.All(ended, v => Assert.True(v!["status"]!.GetValue<string>() is "success" or "failure" or "interrupted",
            NodeProcess.Describe(v)));
        await Poll.UntilAsync(ThreeNodeCluster.Meanwhile(async () => await cluster.AgentNodeAsync("alpha") == "C"), "alpha's agent on C",
            ThreeNodeCluster.FailoverLimit);

        var next = await AwaitRunAsync(cluster, job, await RunAsync(cluster["B"], job));
        await AssertExactAsync(next, full: false, "run after the leave");
        Log("delta run after the leave done");
        await AssertPoolsCleanAsync(job, blocked, "after the leave");

        // Never lost, never duplicated: each VM recorded the run A left once, between the first and the next.
        foreach (var vm in job.Vms)
        {
            var runs = (await cluster.VmRunsAsync(vm)).Select(r => r!["id"]!.GetValue<string>()).ToList();
            Assert.Equal(3, runs.Count);
            Assert.Equal(leaving, runs[1]);
        }
    }
}
