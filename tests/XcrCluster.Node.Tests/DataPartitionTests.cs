using System.Diagnostics;
using System.Net;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Node.Tests;

/// <summary>A partition of the data port between two nodes mid-transfer: the receiving node is reached through a proxy
/// (--data-advertise) whose link is then dropped, silently, both ways. The run fails within the data channel's stall
/// timeout (--data-stall-timeout, 5 s here, on both nodes) with an error saying so, no replica is left half-visible,
/// no transfer slot stays taken, and once the link is back the next run is a delta.</summary>
public sealed class DataPartitionTests : TwoPoolsTest
{
    private const int StallSeconds = 5;
    private readonly string first;
    private readonly string second;

    public DataPartitionTests() => (first, second) = (DataDir("xcr-part1-"), DataDir("xcr-part2-"));

    [Fact]
    public async Task A_dropped_data_link_fails_the_transfer_within_the_stall_timeout_and_the_next_run_is_a_delta()
    {
        await using var proxy = new BlackholeProxy();
        string[] stall = ["--data-stall-timeout", $"{StallSeconds}"];
        using var control = await NodeProcess.StartAsync(first, ["--roles", "control,pool-alpha", .. stall]);
        using var near = await NodeProcess.JoinAsync(second, first, "pool-beta", ["--data-advertise", $"127.0.0.1:{proxy.Port}", .. stall]);
        proxy.Target = IPEndPoint.Parse(NodeProcess.Endpoint(second)["data"]);
        await control.AddPoolAsync("alpha", alpha);
        await control.AddPoolAsync("beta", beta);
        var vm = await alpha.UuidAsync("VM", "tiny01");
        var jobId = (await control.PostAsync("/api/jobs", new
        {
            name = "across", sourcePool = "alpha", vms = new[] { vm },
            targets = new[] { new { pool = "beta", sr = await beta.UuidAsync("SR", "Local storage") } },
        }))["id"]!.GetValue<string>();
        var full = await control.AwaitRunAsync(jobId, await control.RunAsync(jobId));
        Assert.True(full["status"]!.GetValue<string>() == "success", NodeProcess.Describe(full));
        Assert.True(proxy.Forwarded > 1 << 20, "the blocks did not go through the advertised address");

        GuestWorkload.Write(alpha.Pool, vm, 0, 8, 31);
        alpha.Pool.Collector.RunOnce();
        var vmsBefore = await VmNamesAsync(beta);
        var imported = beta.Pool.Stats.BytesImported("/import_raw_vdi");
        beta.Pool.Faults.ImportBytesPerSecond = 128 * 1024;
        var cut = await control.RunAsync(jobId);
        await Poll.UntilAsync(() => beta.Pool.Stats.BytesImported("/import_raw_vdi") > imported, "the delta's import to start");
        proxy.Dropping = true;
        var clock = Stopwatch.StartNew();

        var failed = await control.AwaitRunAsync(jobId, cut);
        clock.Stop();
        Assert.True(failed["status"]!.GetValue<string>() == "failure", NodeProcess.Describe(failed));
        Assert.Contains($"no data moved for {StallSeconds} s", NodeProcess.Describe(failed));
        // The stall timeout acted, not the 60 s default: detection, then the run's cleanup on the target pool.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"the run took {clock.Elapsed} to fail");
        Assert.Equal(vmsBefore, await VmNamesAsync(beta));
        foreach (var pool in new[] { "alpha", "beta" })
        {
            await Poll.UntilAsync(async () => (await control.GetAsync($"/api/pools/{pool}/load"))["transfersInUse"]!.GetValue<int>() == 0,
                $"pool {pool}'s transfer slots to be free");
        }

        proxy.Dropping = false;
        beta.Pool.Faults.Clear();
        var next = await control.AwaitRunAsync(jobId, await control.RunAsync(jobId));
        Assert.True(next["status"]!.GetValue<string>() == "success", NodeProcess.Describe(next));
        Assert.False(next["full"]!.GetValue<bool>());
        Assert.DoesNotContain(await VmNamesAsync(beta, "VDI"), n => n.StartsWith("[Importing", StringComparison.Ordinal));
    }
}
