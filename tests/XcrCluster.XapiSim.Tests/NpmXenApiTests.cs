using System.Text.Json;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The real npm `xen-api` client (4.7.6) against the simulator, over JSON-RPC and, when the JSON
/// endpoint answers like an old host, over XML-RPC. The simulator's counters prove which transport served.</summary>
[Collection("processes")]
public sealed class NpmXenApiTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Lists_vms_snapshots_with_callAsync_and_round_trips_map_updates(bool json)
    {
        await using var sim = await SimHost.StartAsync();
        sim.Pool.Faults.DisableJsonRpc = !json;
        var url = $"http://root:password@{sim.Url.Authority}";
        var (code, stdout, stderr) = await NodeTool.RunAsync("xen-api-check.mjs", TimeSpan.FromSeconds(90), url, "tiny01");
        Assert.True(code == 0, $"node exited {code}: {stderr}");
        var jsonCalls = sim.Pool.Stats.Requests("/jsonrpc");
        var xmlCalls = sim.Pool.Stats.Requests("/xmlrpc") + sim.Pool.Stats.Requests("/");
        using var result = JsonDocument.Parse(stdout);
        var root = result.RootElement;
        Assert.Equal(["db01", "tiny01", "web01"], root.GetProperty("vms").EnumerateArray().Select(v => v.GetString()!));
        var snapshot = root.GetProperty("snapshot");
        Assert.StartsWith("OpaqueRef:", snapshot.GetProperty("ref").GetString());
        Assert.True(snapshot.GetProperty("isSnapshot").GetBoolean());
        var otherConfig = snapshot.GetProperty("otherConfig");
        Assert.Equal("1", otherConfig.GetProperty("xcr:a").GetString());
        Assert.False(otherConfig.TryGetProperty("xcr:b", out _));
        var blocked = root.GetProperty("blockedOperations");
        Assert.Equal("blocked by the npm client", blocked.GetProperty("start").GetString());
        Assert.Equal("also blocked", blocked.GetProperty("start_on").GetString());

        // The snapshot really exists on the pool, with what the client wrote.
        using var rpc = sim.Xml();
        await rpc.LoginAsync();
        var stored = await rpc.RecordAsync("VM", snapshot.GetProperty("ref").GetString()!);
        Assert.Equal("1", ((Dictionary<string, object?>)stored["other_config"]!)["xcr:a"]);

        if (json)
        {
            // Every call of the npm client went to /jsonrpc; none fell back.
            Assert.True(jsonCalls >= 6, $"{jsonCalls} JSON-RPC calls");
            Assert.Equal(0, xmlCalls);
        }
        else
        {
            // One JSON probe answered as an old host would, then XML-RPC for good.
            Assert.True(xmlCalls >= 6, $"{xmlCalls} XML-RPC calls");
            Assert.InRange(jsonCalls, 1, 3);
        }
    }
}
