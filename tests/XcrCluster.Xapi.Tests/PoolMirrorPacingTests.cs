using XcrCluster.Xapi.Mirror;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

/// <summary>The mirror's event loop is paced (EventInterval) but never makes a barrier wait for the pace.</summary>
public sealed class PoolMirrorPacingTests
{
    /// <summary>An interval no test outlives: the loop goes again only when a barrier asks.</summary>
    private static readonly PoolMirrorOptions Slow = new()
    {
        EventInterval = TimeSpan.FromHours(1), EventTimeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task Changes_made_within_one_interval_cost_one_event_from_not_one_each()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        await using var mirror = new PoolMirror(ClientPools.Endpoint(sim), Slow).Start();
        var vm = (await mirror.AllAsync<VmRecord>()).First(v => v.NameLabel == "db01");
        var before = sim.Pool.Stats.CallCounts().GetValueOrDefault("event.from");

        for (var i = 0; i < 50; i++)
        {
            await client.CallAsync("VM.set_name_description", vm.Ref, $"change {i}");
        }

        await mirror.BarrierAsync(client);

        // The first change ends the waiting event.from; the next waits for the interval or a barrier: the barrier's.
        // Unpaced, every change could end one (up to 50).
        Assert.InRange(sim.Pool.Stats.CallCounts().GetValueOrDefault("event.from") - before, 1, 4);
        Assert.Equal("change 49", (await mirror.FindAsync<VmRecord>(vm.Ref))!.NameDescription);
    }

    [Fact]
    public async Task A_barrier_does_not_wait_for_the_interval()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        await using var mirror = new PoolMirror(ClientPools.Endpoint(sim), Slow with { BarrierTimeout = TimeSpan.FromSeconds(20) }).Start();
        var vm = (await mirror.AllAsync<VmRecord>()).First(v => v.NameLabel == "db01");

        for (var i = 0; i < 3; i++)
        {
            // Each change ends a waiting event.from, after which the loop paces: only the barrier gets it going again.
            await client.CallAsync("VM.set_name_label", vm.Ref, $"db01-{i}");
            await mirror.BarrierAsync(client);
            Assert.Equal($"db01-{i}", (await mirror.FindAsync<VmRecord>(vm.Ref))!.NameLabel);
        }
    }
}
