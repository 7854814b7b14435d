using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Gauges read at each scrape from what this node's actors last told: the RPO lag of each VM whose entity runs here
/// (now minus the snapshot time of its newest restore point on any target), and the slots of each pool whose agent runs here.
/// An entity that passivates stays counted (its VM is still this node's: the shard restarts it here on the next message); one
/// stopped otherwise (handed over, node leaving) is forgotten, as is an agent that stops.</summary>
public static class StateGauges
{
    private static readonly ConcurrentDictionary<string, DateTimeOffset> NewestPoints = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, PoolSlots> Slots = new(StringComparer.Ordinal);

    /// <summary>Made with the first report (the listener hears of instruments published after it started).</summary>
    private static readonly Instrument[] Instruments =
    [
        ActorMeter.Meter.CreateObservableGauge("xcr_rpo_lag_seconds", RpoLags, "s",
            "seconds since the newest restore point's snapshot of each VM whose entity runs on this node"),
        ActorMeter.Meter.CreateObservableGauge("xcr_pool_slots_in_use", () => Slots.SelectMany(p => Kinds.Select(kind =>
                new Measurement<int>(p.Value.InUse(kind), ActorMeter.Tag("pool", p.Key), ActorMeter.Tag("kind", Name(kind))))),
            description: "snapshot and transfer slots held, per pool whose agent runs on this node"),
        ActorMeter.Meter.CreateObservableGauge("xcr_pool_slots_limit", () => Slots.SelectMany(p => Kinds.Select(kind =>
                new Measurement<int>(p.Value.Limits.Capacity(kind), ActorMeter.Tag("pool", p.Key), ActorMeter.Tag("kind", Name(kind))))),
            description: "snapshot and transfer slots a pool grants at once, per pool whose agent runs on this node"),
        ActorMeter.Meter.CreateObservableGauge("xcr_pool_slot_requests_waiting", () => Slots.Select(p =>
                new Measurement<int>(p.Value.Waiting.Count, ActorMeter.Tag("pool", p.Key))),
            description: "slot requests waiting for a free slot, per pool whose agent runs on this node"),
    ];

    private static SlotKind[] Kinds => [SlotKind.Snapshot, SlotKind.Transfer];

    /// <summary>The VM's entity has this state now (recovered, or an event applied).</summary>
    public static void VmState(ReplicatedVmState state)
    {
        _ = Instruments;
        if (state.Chains.SelectMany(c => c.RestorePoints).Max(p => p.SnapshotTime) is { } newest)
        {
            NewestPoints[state.VmUuid] = newest;
        }
        else
        {
            NewestPoints.TryRemove(state.VmUuid, out _);
        }
    }

    /// <summary>The VM's entity left this node (not passivated): another node's gauge shows it now.</summary>
    public static void VmGone(string vm) => NewestPoints.TryRemove(vm, out _);

    /// <summary>The pool's agent here holds these slots now.</summary>
    public static void PoolSlots(string pool, PoolSlots slots)
    {
        _ = Instruments;
        Slots[pool] = slots;
    }

    /// <summary>The pools whose agent runs on this node now.</summary>
    public static IReadOnlyList<string> HostedPools => [.. Slots.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The pool's agent here stopped.</summary>
    public static void PoolGone(string pool) => Slots.TryRemove(pool, out _);

    private static IEnumerable<Measurement<double>> RpoLags()
    {
        var now = DateTimeOffset.UtcNow;
        return NewestPoints.Select(p => new Measurement<double>(Math.Max(0, (now - p.Value).TotalSeconds), ActorMeter.Tag("vm", p.Key)));
    }

    private static string Name(SlotKind kind) => kind.ToString().ToLowerInvariant();
}
