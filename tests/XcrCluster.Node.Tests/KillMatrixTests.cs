using Xunit.Abstractions;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Node.Tests;

/// <summary>
/// kill -9 of the node at points of a run chosen by fixed seeds: half of the trials at the Nth XAPI call of one pool
/// (the pool holds every call from there on, so the node dies inside that step: snapshot, export, disk preparation,
/// each commit step, retention), half at a fraction of the import's bytes. After each trial the node is restarted on
/// its data directory; the interrupted run is recorded as such, the next run is a delta whose restore point holds
/// exactly its source snapshot, and neither pool keeps anything no marker explains. docs/reliability.md lists it.
/// </summary>
public sealed class KillMatrixTests : TwoPoolsTest
{
    public const int Trials = 20;
    private readonly ITestOutputHelper output;
    private readonly string dataDir;

    public KillMatrixTests(ITestOutputHelper output) => (this.output, dataDir) = (output, DataDir("xcr-kill-"));

    [Fact]
    public async Task A_node_killed_at_any_point_of_a_run_leaves_both_pools_clean_and_the_next_run_is_an_exact_delta()
    {
        string jobId, vm;
        long alphaCalls, betaCalls, deltaBytes;
        using (var node = await NodeProcess.StartAsync(dataDir))
        {
            await node.AddPoolAsync("alpha", alpha);
            await node.AddPoolAsync("beta", beta);
            vm = await alpha.UuidAsync("VM", "tiny01");
            var job = await node.PostAsync("/api/jobs", new
            {
                name = "kill", sourcePool = "alpha", vms = new[] { vm },
                targets = new[] { new { pool = "beta", sr = await beta.UuidAsync("SR", "Local storage") } },
                settings = new { copyRetention = 2 },
            });
            jobId = job["id"]!.GetValue<string>();
            await AssertExactAsync(node, jobId, full: true);

            // One clean delta measures what a run does: calls on each pool, bytes imported.
            (alphaCalls, betaCalls, deltaBytes) = (Calls(alpha), Calls(beta), beta.Pool.Stats.BytesImported("/import_raw_vdi"));
            GuestWorkload.Write(alpha.Pool, vm, 0, 4, 1);
            await AssertExactAsync(node, jobId, full: false);
            (alphaCalls, betaCalls, deltaBytes) = (Calls(alpha) - alphaCalls, Calls(beta) - betaCalls,
                beta.Pool.Stats.BytesImported("/import_raw_vdi") - deltaBytes);
        }

        var blocked = await PoolsClean.BlockedAsync(alpha, vm);
        var passed = new List<string>();
        for (var trial = 0; trial < Trials; trial++)
        {
            var random = new Random(4242 + trial);
            GuestWorkload.Write(alpha.Pool, vm, 0, 4, 100 + trial);
            alpha.Pool.Collector.RunOnce();
            string where;
            using (var node = await NodeProcess.StartAsync(dataDir))
            {
                var imported = beta.Pool.Stats.BytesImported("/import_raw_vdi");
                Func<bool> reached;
                if (trial % 2 == 0)
                {
                    var (sim, calls, name) = random.Next(2) == 0 ? (alpha, alphaCalls, "alpha") : (beta, betaCalls, "beta");
                    var nth = random.Next(1, (int)calls + 1);
                    sim.Pool.Faults.HangAfterCalls = nth - 1;
                    reached = () => sim.Pool.Faults.HangPointReached;
                    where = $"call {nth} of {calls} on {name}";
                }
                else
                {
                    var bytes = (long)(deltaBytes * random.NextDouble());
                    beta.Pool.Faults.ImportBytesPerSecond = 4 << 20;
                    reached = () => beta.Pool.Stats.BytesImported("/import_raw_vdi") - imported >= bytes;
                    where = $"{bytes} of {deltaBytes} import bytes";
                }

                var run = await node.RunAsync(jobId);
                await Poll.UntilAsync(() => reached() || RunEnded(node, jobId, run), $"trial {trial}: {where}");
                Assert.Equal(137, await node.Process.SignalAsync("KILL"));
            }

            alpha.Pool.Faults.Clear();
            beta.Pool.Faults.Clear();
            using (var node = await NodeProcess.StartAsync(dataDir))
            {
                await AssertExactAsync(node, jobId, full: false, $"trial {trial} ({where})");
            }

            await PoolsClean.AssertAsync(alpha, beta, vm, blocked, $"trial {trial} ({where})");
            passed.Add(where);
        }

        output.WriteLine($"{passed.Count} kill -9 trials passed: {string.Join("; ", passed)}");
        Assert.Equal(Trials, passed.Count);
    }

    private static long Calls(SimHost sim) => sim.Pool.Stats.CallCounts().Values.Sum();

    /// <summary>Whether the run already ended (a kill point past its last call): polled at most every 50 ms.</summary>
    private static bool RunEnded(NodeProcess node, string jobId, string run)
    {
        var vm = node.GetAsync($"/api/jobs/{jobId}/runs/{run}").GetAwaiter().GetResult()["vms"]!.AsArray().Single()!;
        return vm["status"]!.GetValue<string>() is not ("running" or "queued");
    }

    /// <summary>A run of the job succeeds (full or delta as said) and its restore point holds exactly its source snapshot.</summary>
    private async Task AssertExactAsync(NodeProcess node, string jobId, bool full, string trial = "")
    {
        var run = await node.AwaitRunAsync(jobId, await node.RunAsync(jobId));
        Assert.True(run["status"]!.GetValue<string>() == "success", $"{trial}: {NodeProcess.Describe(run)}");
        Assert.True(run["full"]!.GetValue<bool>() == full, $"{trial}: {NodeProcess.Describe(run)}");
        var restorePoint = run["targets"]!.AsArray().Single()!["restorePointUuid"]!.GetValue<string>();
        Assert.Equal(await alpha.DiskChecksumsAsync(run["sourceSnapshot"]!.GetValue<string>()),
            await beta.DiskChecksumsAsync(restorePoint));
    }
}
