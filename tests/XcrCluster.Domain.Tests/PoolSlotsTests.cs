using XcrCluster.Domain.Pools;

namespace XcrCluster.Domain.Tests;

/// <summary>The pure per-pool limits: capacity per kind, first come first served, oversized requests, node loss.</summary>
public sealed class PoolSlotsTests
{
    private static AcquireSlots Ask(string id, SlotKind kind = SlotKind.Transfer, int count = 1, string node = "n1") => new("alpha", kind, count, id, node);

    [Fact]
    public void Slots_are_granted_up_to_the_capacity_and_a_release_grants_the_next_in_order()
    {
        var slots = new PoolSlots(new PoolLimits(Snapshots: 1, Transfers: 3));
        (slots, var granted) = slots.Acquire(Ask("a", count: 2));
        Assert.Equal(["a"], granted.Select(g => g.LeaseId));
        (slots, granted) = slots.Acquire(Ask("b", count: 2));
        Assert.Empty(granted);

        // "c" would fit, but "b" asked first: no overtaking, so a large request never starves.
        (slots, granted) = slots.Acquire(Ask("c"));
        Assert.Empty(granted);
        (slots, granted) = slots.Acquire(Ask("s", SlotKind.Snapshot));
        Assert.Equal(["s"], granted.Select(g => g.LeaseId));
        (slots, granted) = slots.Release("a");
        Assert.Equal(["b", "c"], granted.Select(g => g.LeaseId));
        Assert.Equal(3, slots.InUse(SlotKind.Transfer));
        Assert.Equal(1, slots.InUse(SlotKind.Snapshot));
    }

    [Fact]
    public void An_oversized_request_takes_the_whole_capacity_and_a_duplicate_is_ignored()
    {
        var slots = new PoolSlots(new PoolLimits(2, 12));
        (slots, var granted) = slots.Acquire(Ask("big", count: 40));
        Assert.Single(granted);
        Assert.Equal(12, slots.InUse(SlotKind.Transfer));
        (slots, granted) = slots.Acquire(Ask("big", count: 40));
        Assert.Empty(granted);
        Assert.Single(slots.Held);
    }

    [Fact]
    public void A_node_that_leaves_gives_back_what_it_held_and_what_it_waited_for()
    {
        var slots = new PoolSlots(new PoolLimits(2, 1));
        (slots, _) = slots.Acquire(Ask("gone", node: "n2"));
        (slots, _) = slots.Acquire(Ask("gone-waiting", node: "n2"));
        (slots, _) = slots.Acquire(Ask("mine"));
        (slots, var granted) = slots.ReleaseNode("n2");
        Assert.Equal(["mine"], granted.Select(g => g.LeaseId));
        Assert.Empty(slots.Waiting);
        (slots, granted) = slots.Release("unknown");
        Assert.Empty(granted);
    }
}
