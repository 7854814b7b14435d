using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;
using XcrCluster.Actors;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Failover.Tests;

/// <summary>What the failover scenarios share: pools alpha and beta (in-process simulators, reached by the nodes over
/// HTTP like real pools), a <see cref="ThreeNodeCluster"/> per test, a job replicating two VMs of alpha to beta whose
/// entities live on the two control nodes (one each), and the checks every scenario ends with.</summary>
public abstract class FailoverTest(ITestOutputHelper output) : TwoPoolsTest
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    /// <summary>The cluster, the job over two VMs and its full run (one entity on each control node, checked), the source
    /// VMs' blocked operations from before it. The caller disposes the cluster; a failure here disposes it.</summary>
    protected async Task<(ThreeNodeCluster Cluster, JobDefinition Job, Dictionary<string, Dictionary<string, object?>> Blocked)>
        StartWithFullRunAsync(int retries = 1)
    {
        var cluster = await ThreeNodeCluster.StartAsync(alpha, beta, DataDir, Log);
        try
        {
            Log("three nodes up, pools registered");
            var job = await DefineJobAsync(cluster["B"], await TwoVmsInTwoShardsAsync(), retries);
            var blocked = await BlockedAsync(job);
            await AssertExactAsync(await AwaitRunAsync(cluster, job, await RunAsync(cluster["B"], job)), full: true, "first run");
            var hosts = await Task.WhenAll(job.Vms.Select(cluster.EntityNodeAsync));
            Assert.Equal(new[] { "A", "B" }, hosts.Order());
            Log("full run done");
            return (cluster, job with { EntityOnA = job.Vms[Array.IndexOf(hosts, "A")], EntityOnB = job.Vms[Array.IndexOf(hosts, "B")] },
                blocked);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a delta whose export crawls (256 KiB/s: the 4 blocks written on each VM take 30 s or more) and
    /// returns once its bytes flow; the caller clears alpha's faults.</summary>
    protected async Task<string> StartSlowDeltaAsync(ThreeNodeCluster cluster, JobDefinition job, int seed)
    {
        WriteGuests(job, seed);
        var exported = alpha.Pool.Stats.BytesExported("/export_raw_vdi");
        alpha.Pool.Faults.ExportBytesPerSecond = 256 * 1024;
        var run = await RunAsync(cluster["B"], job);
        await Poll.UntilAsync(() => alpha.Pool.Stats.BytesExported("/export_raw_vdi") > exported, "the delta's export to start");
        return run;
    }

    /// <summary>Each VM of the job recorded exactly these runs after its first, in this order: none lost, none twice.</summary>
    protected static async Task AssertRunsAfterFirstAsync(ThreeNodeCluster cluster, JobDefinition job, params string[] runs)
    {
        foreach (var vm in job.Vms)
        {
            var recorded = (await cluster.VmRunsAsync(vm)).Select(r => r!["id"]!.GetValue<string>()).ToList();
            Assert.Equal(runs, recorded.Skip(1));
        }
    }

    /// <summary>Two VMs of alpha whose entities fall in different shards: a new shard goes to the control node with the
    /// fewest (least-shard allocation, NoRebalanceAllocationStrategy), so after their first run one entity lives on A,
    /// the other on B, whichever order the coordinator allocates them in.</summary>
    protected async Task<string[]> TwoVmsInTwoShardsAsync()
    {
        var extractor = new ReplicatedVmMessageExtractor();
        var vms = new List<string>();
        foreach (var name in new[] { "tiny01", "web01", "db01" })
        {
            var uuid = await alpha.UuidAsync("VM", name);
            if (vms.All(v => extractor.ShardId(v) != extractor.ShardId(uuid)))
            {
                vms.Add(uuid);
            }
        }

        return [.. vms.Take(2)];
    }

    /// <summary>A job replicating the VMs to beta's local SR, a failed VM tried again <paramref name="retries"/> times; its
    /// one schedule never fires unless changed (January 1st).</summary>
    protected async Task<JobDefinition> DefineJobAsync(NodeProcess node, string[] vms, int retries)
    {
        var job = await node.PostAsync("/api/jobs", new
        {
            name = "failover", sourcePool = "alpha", vms,
            targets = new[] { new { pool = "beta", sr = await beta.UuidAsync("SR", "Local storage") } },
            schedule = new { cron = "0 0 0 1 1 *" },
            settings = new { copyRetention = 3, retries },
        });
        return new JobDefinition(job["id"]!.GetValue<string>(), job["scheduleId"]!.GetValue<string>(), vms);
    }

    /// <summary>Starts a run of the job by hand: its id. Alpha's collector runs first (it is off in tests), coalescing
    /// what the last runs' snapshots left, as the VDI chain check of a run wants.</summary>
    protected async Task<string> RunAsync(NodeProcess node, JobDefinition job)
    {
        alpha.Pool.Collector.RunOnce();
        var accepted = await node.PostAsync($"/api/jobs/{job.Id}/run", new { }, 202);
        Assert.True(accepted["vms"]!.AsArray().All(v => v!["accepted"]!.GetValue<bool>()), accepted.ToJsonString());
        return accepted["runId"]!.GetValue<string>();
    }

    /// <summary>Polls a run until none of its VMs is queued or running; each VM's result.</summary>
    protected static async Task<JsonArray> AwaitRunAsync(ThreeNodeCluster cluster, JobDefinition job, string runId, TimeSpan? limit = null)
    {
        JsonArray vms = [];
        await Poll.UntilAsync(ThreeNodeCluster.Meanwhile(async () =>
        {
            vms = (await cluster.Any().GetAsync($"/api/jobs/{job.Id}/runs/{runId}"))["vms"]!.AsArray();
            return vms.Count == job.Vms.Length && vms.All(v => v!["status"]!.GetValue<string>() is not ("running" or "queued"));
        }), $"run {runId} to end", limit ?? TimeSpan.FromSeconds(120));
        return vms;
    }

    /// <summary>Every VM of the run succeeded, full or delta as said, and each restore point holds exactly its source snapshot.</summary>
    protected async Task AssertExactAsync(JsonArray vms, bool full, string context)
    {
        foreach (var vm in vms.Select(v => v!))
        {
            await AssertExactAsync(vm, full, context);
        }
    }

    /// <summary>One VM's part of a run succeeded, full or delta as said, and its restore point holds exactly its source snapshot.</summary>
    protected async Task AssertExactAsync(JsonNode vm, bool full, string context)
    {
        Assert.True(vm["status"]!.GetValue<string>() == "success", $"{context}: {NodeProcess.Describe(vm)}");
        Assert.True(vm["full"]!.GetValue<bool>() == full, $"{context}: {NodeProcess.Describe(vm)}");
        var restorePoint = vm["targets"]!.AsArray().Single()!["restorePointUuid"]!.GetValue<string>();
        Assert.Equal(await alpha.DiskChecksumsAsync(vm["sourceSnapshot"]!.GetValue<string>()), await beta.DiskChecksumsAsync(restorePoint));
    }

    /// <summary>One VM's part of a run failed once when its source side went away (<paramref name="cause"/> in the retry's
    /// log entry, when given), then succeeded (the job's one retry) as an exact delta.</summary>
    protected async Task AssertRetriedAsync(JsonNode vm, string context, string? cause = "agent stopped during the run")
    {
        await AssertExactAsync(vm, full: false, context);
        Assert.True(vm["log"]!.AsArray().Any(l => l!["name"]!.GetValue<string>() == "Retry the VM backup due to an error"
            && (cause is null || l["message"]!.GetValue<string>().Contains(cause, StringComparison.Ordinal))),
            $"{context}: no retry{(cause is null ? "" : $" after \"{cause}\"")}: {NodeProcess.Describe(vm)}");
    }

    /// <summary>The part of a VM in a run's result.</summary>
    protected static JsonNode Part(JsonArray vms, string vm) => vms.Single(v => v!["vm"]!.GetValue<string>() == vm)!;

    /// <summary>Guest writes on every VM of the job, so the next run has a delta to send.</summary>
    protected void WriteGuests(JobDefinition job, int seed)
    {
        foreach (var vm in job.Vms)
        {
            GuestWorkload.Write(alpha.Pool, vm, 0, 4, seed);
        }

        alpha.Pool.Collector.RunOnce();
    }

    /// <summary>No half-visible replica on beta, nothing left on alpha, for every VM of the job.</summary>
    protected async Task AssertPoolsCleanAsync(JobDefinition job, IReadOnlyDictionary<string, Dictionary<string, object?>> blocked,
        string context)
    {
        foreach (var vm in job.Vms)
        {
            await PoolsClean.AssertAsync(alpha, beta, vm, blocked[vm], context);
        }
    }

    protected async Task<Dictionary<string, Dictionary<string, object?>>> BlockedAsync(JobDefinition job)
    {
        var blocked = new Dictionary<string, Dictionary<string, object?>>();
        foreach (var vm in job.Vms)
        {
            blocked[vm] = await PoolsClean.BlockedAsync(alpha, vm);
        }

        return blocked;
    }

    /// <summary>A line in the test's output with the seconds since the test began (how long each phase takes).</summary>
    protected void Log(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1} s  {what}");

    /// <param name="EntityOnA">The VM whose entity lives on node A after the first run (the other's on B).</param>
    protected sealed record JobDefinition(string Id, string ScheduleId, string[] Vms, string EntityOnA = "", string EntityOnB = "");
}
