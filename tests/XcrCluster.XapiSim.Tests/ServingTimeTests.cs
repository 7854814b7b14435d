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

        // Three seconds of waiting, a few milliseconds of work: far under a second even on a loaded machine. The wait is
        // reported apart, and the simulator was not busy while it lasted.
        var waited = sim.Pool.Stats.ServingTimes()["event.from"] - served;
        Assert.True(waited < TimeSpan.FromSeconds(1), $"event.from served for {waited}");
        Assert.True(sim.Pool.Stats.WaitingTimes()["event.from"] >= TimeSpan.FromSeconds(2.9));
        Assert.True(sim.Pool.Stats.Busy() < TimeSpan.FromSeconds(1), $"busy for {sim.Pool.Stats.Busy()}");
    }

    [Fact]
    public async Task The_time_a_call_waits_for_another_calls_lock_is_waiting_and_the_pool_is_busy_once_for_both()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        sim.Pool.Stats.Clear();
        var held = TimeSpan.FromSeconds(1);
        Task<object?> blocked;
        lock (sim.Pool.Db.Sync)
        {
            // The test stands for a long call holding the database lock: the read queues behind it for a second.
            blocked = rpc.CallAsync("VM.get_all_records");
            Assert.True(SpinWait.SpinUntil(() => sim.Pool.Stats.CallCounts().ContainsKey("VM.get_all_records"), TimeSpan.FromMinutes(1)));
            var clock = Stopwatch.StartNew();
            SpinWait.SpinUntil(() => clock.Elapsed >= held);
        }

        await blocked;
        var (serving, waiting) = (sim.Pool.Stats.ServingTimes()["VM.get_all_records"], sim.Pool.Stats.WaitingTimes()["VM.get_all_records"]);
        Assert.True(waiting >= held / 2, $"waited {waiting}");
        Assert.True(serving < held / 2, $"served {serving}");

        // Busy is wall time with a call being served: the queued call's time counts once, however many calls queue.
        Assert.True(sim.Pool.Stats.Busy() >= waiting, $"busy {sim.Pool.Stats.Busy()}");
        using var http = new HttpClient { BaseAddress = sim.Url };
        var stats = await http.GetFromJsonAsync<JsonElement>("/sim/stats");
        Assert.True(stats.GetProperty("waitingSeconds").GetProperty("VM.get_all_records").GetDouble() >= held.TotalSeconds / 2);
        Assert.True(stats.GetProperty("busySeconds").GetDouble() >= held.TotalSeconds / 2);
    }
}
