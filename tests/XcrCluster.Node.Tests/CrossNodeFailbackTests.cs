using System.Text.Json.Nodes;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Node.Tests;

/// <summary>A failback between pools served by two nodes: the replica's node reads the replica (beta's XAPI) and sends the
/// deltas over the data channel, the original's node writes them (alpha's XAPI); each pool is reached only by its own node.</summary>
public sealed class CrossNodeFailbackTests : TwoPoolsTest
{
    private const long Block = 2 * 1024 * 1024;

    [Theory]
    [InlineData("planned")]
    [InlineData("force")]
    public async Task A_failback_between_pools_served_by_two_nodes_sends_only_the_replica_blocks_over_the_data_channel(string mode)
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
        // Before any failover: refused by the replica pool's node, the reason coming back from it, nothing changed.
        var unchanged = (await ManagedInventoryAsync(alpha), await ManagedInventoryAsync(beta));
        var refused = await control.PostAsync("/api/failback", new { vm }, expected: 409);
        Assert.Contains("pool beta has no started replica", refused["error"]!.GetValue<string>());
        Assert.Equal(unchanged, (await ManagedInventoryAsync(alpha), await ManagedInventoryAsync(beta)));

        var failover = mode == "planned" ? await control.PostAsync("/api/failover/planned", new { vm })
            : await control.PostAsync("/api/failover", new { vm, mode = "force", yes = true });
        var replica = failover["vms"]![0]!["result"]!.GetValue<string>();
        var (_, written) = GuestWorkload.Write(beta.Pool, replica, 0, 3, seed: 7);
        var (exported, imported) = (beta.Pool.Stats.BytesExported("/export_raw_vdi"), alpha.Pool.Stats.BytesImported("/import_raw_vdi"));
        if (mode == "force")
        {
            // The original still runs (a new VM takes the blocks): a transfer cut off on either side (the replica's export
            // on beta's node, the import into the new VM on alpha's) leaves neither pool changed.
            var before = (await ManagedInventoryAsync(alpha), await ManagedInventoryAsync(beta));
            foreach (var (faults, cutOff) in new (XcrCluster.XapiSim.Faults, Action<XcrCluster.XapiSim.Faults>)[]
            {
                (beta.Pool.Faults, f => f.ResetExportAfterBytes = 1 << 20), (alpha.Pool.Faults, f => f.ResetImportAfterBytes = 1 << 20),
            })
            {
                cutOff(faults);
                var cut = await control.PostAsync("/api/failback", new { vm, resume = true }, expected: 502);
                Assert.Equal("failure", cut["record"]!["vms"]![0]!["status"]!.GetValue<string>());
                Assert.Equal(before, (await ManagedInventoryAsync(alpha), await ManagedInventoryAsync(beta)));
                faults.Clear();
            }

            (exported, imported) = (beta.Pool.Stats.BytesExported("/export_raw_vdi"), alpha.Pool.Stats.BytesImported("/import_raw_vdi"));
        }

        var received = (await control.GetAsync("/api/node"))["channel"]!["transfersReceived"]!.GetValue<long>();
        var record = await control.PostAsync("/api/failback", new { vm, resume = true });
        var outcome = record["vms"]![0]!;
        Assert.True(outcome["status"]!.GetValue<string>() == "success", outcome.ToJsonString());
        var result = outcome["result"]!.GetValue<string>();
        Assert.Equal(mode == "planned" ? "in-place" : "new-vm", outcome["details"]!["mode"]!.GetValue<string>());
        Assert.Equal(mode == "planned", result == vm);

        // Only the blocks written on the replica crossed, once: read from beta, over the channel into alpha's node, written.
        Assert.Equal(written.Count.ToString(), outcome["details"]!["blocks"]!.GetValue<string>());
        var sent = long.Parse(outcome["details"]!["bytes"]!.GetValue<string>());
        Assert.Equal(sent, alpha.Pool.Stats.BytesImported("/import_raw_vdi") - imported);
        Assert.InRange(sent, written.Count * Block, written.Count * (Block + 512) + 8192);
        Assert.Equal(received + 1, (await control.GetAsync("/api/node"))["channel"]!["transfersReceived"]!.GetValue<long>());
        Assert.Equal(await beta.DiskChecksumsAsync(replica), await alpha.DiskChecksumsAsync(result));

        // Each pool was reached only by the node serving it (the failback included).
        var (alphaNode, betaNode) = (Address(first), Address(second));
        Assert.Equal(0, Seen(alpha, betaNode).Requests);
        Assert.Equal(0, Seen(beta, alphaNode).Requests);
        Assert.Equal(alpha.Pool.Stats.BytesImported("/import_raw_vdi"), Seen(alpha, alphaNode).Imported);
        Assert.Equal(beta.Pool.Stats.BytesExported("/export_raw_vdi"), Seen(beta, betaNode).Exported);
        Assert.True(beta.Pool.Stats.BytesExported("/export_raw_vdi") - exported >= sent);

        // Resumed: the next run is a delta of the original again; the started replica is left as it is.
        var next = await control.AwaitRunAsync(jobId, await control.RunAsync(jobId));
        Assert.True(next["status"]!.GetValue<string>() == "success", NodeProcess.Describe(next));
        Assert.False(next["full"]!.GetValue<bool>());
        Assert.Equal(await alpha.DiskChecksumsAsync(next["sourceSnapshot"]!.GetValue<string>()),
            await beta.DiskChecksumsAsync(next["targets"]![0]!["restorePointUuid"]!.GetValue<string>()));
        Assert.Equal("Running", (await beta.AllRecordsAsync("VM")).Single(r => (string)r["uuid"]! == replica)["power_state"]);

        Assert.Equal(0, await near.Process.SignalAsync("TERM"));
        Assert.Equal(0, await control.Process.SignalAsync("TERM"));
    }

    /// <summary>Every VM (power state, start block) and managed VDI of a pool.</summary>
    private static async Task<string> ManagedInventoryAsync(SimHost sim)
    {
        var vms = (await sim.AllRecordsAsync("VM"))
            .Select(r => $"{r["uuid"]}:{r["power_state"]}:{((Dictionary<string, object?>)r["blocked_operations"]!).Count}");
        var vdis = (await sim.AllRecordsAsync("VDI")).Where(r => r["managed"] is true).Select(r => (string)r["uuid"]!);
        return string.Join(",", vms.Concat(vdis).Order(StringComparer.Ordinal));
    }

    /// <summary>A node's Akka address: the end of the User-Agent it names itself with (`xcr-node/VERSION (ADDRESS)`).</summary>
    private static string Address(string dir) => $"({NodeProcess.Endpoint(dir)["akka"]})";

    /// <summary>What reached a pool from the node with this address (nothing: zeros).</summary>
    private static (long Requests, long Exported, long Imported) Seen(SimHost sim, string address)
        => sim.Pool.Stats.ByAgent().Where(a => a.Key.StartsWith("xcr-node/", StringComparison.Ordinal)
            && a.Key.EndsWith(address, StringComparison.Ordinal)).Select(a => a.Value).SingleOrDefault();
}
