using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The simulator's own serving time per method (Stats.ServingTimes, /sim/stats servingSeconds): what a benchmark
/// subtracts to tell the simulator's cost from the client's.</summary>
public sealed class ServingTimeTests
{
    [Fact]
    public async Task Each_call_adds_its_serving_time_to_its_method_and_stats_show_it()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        Assert.Empty(sim.Pool.Stats.ServingTimes());
        await rpc.CallAsync("VM.get_all_records");
        var once = sim.Pool.Stats.ServingTimes()["VM.get_all_records"];
        Assert.True(once > TimeSpan.Zero);
        await rpc.CallAsync("VM.get_all_records");
        Assert.True(sim.Pool.Stats.ServingTimes()["VM.get_all_records"] > once);

        // An Async.X call is timed as X, its task's run included.
        var vm = await rpc.UuidAsync("VM", "tiny01");
        var vmRef = (string)(await rpc.CallAsync("VM.get_by_uuid", vm))!;
        var task = (string)(await rpc.CallAsync("Async.VM.snapshot", vmRef, "timed"))!;
        await Poll.UntilAsync(async () => (string)(await rpc.CallAsync("task.get_status", task))! != "pending", "the snapshot task");

        // The task ends before its time is added.
        await Poll.UntilAsync(() => sim.Pool.Stats.ServingTimes().GetValueOrDefault("VM.snapshot") > TimeSpan.Zero, "VM.snapshot timed");
        Assert.Subset(sim.Pool.Stats.CallCounts().Keys.ToHashSet(), sim.Pool.Stats.ServingTimes().Keys.ToHashSet());

        using var http = new HttpClient { BaseAddress = sim.Url };
        var stats = await http.GetFromJsonAsync<JsonElement>("/sim/stats");
        Assert.True(stats.GetProperty("servingSeconds").GetProperty("VM.get_all_records").GetDouble() > 0);
        (await http.DeleteAsync("/sim/stats")).EnsureSuccessStatusCode();
        Assert.Empty(sim.Pool.Stats.ServingTimes());
    }

    [Fact]
    public async Task The_time_event_from_waits_for_a_change_is_not_serving_time()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        var now = (Dictionary<string, object?>)(await rpc.CallAsync("event.from", new List<object?> { "VM" }, "", 0.0))!;
        var served = sim.Pool.Stats.ServingTimes()["event.from"];
        var clock = Stopwatch.StartNew();
        var none = (Dictionary<string, object?>)(await rpc.CallAsync("event.from", new List<object?> { "VM" }, now["token"], 3.0))!;
        Assert.Empty((List<object?>)none["events"]!);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.9), $"event.from returned after {clock.Elapsed}");

        // Three seconds of waiting, a few milliseconds of work: far under a second even on a loaded machine.
        var waited = sim.Pool.Stats.ServingTimes()["event.from"] - served;
        Assert.True(waited < TimeSpan.FromSeconds(1), $"event.from served for {waited}");
    }
}
