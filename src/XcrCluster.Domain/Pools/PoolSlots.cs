using System.Collections.Immutable;

namespace XcrCluster.Domain.Pools;

/// <summary>Xen Orchestra's per-pool limits (xo-server [xapiOptions]: vmSnapshotConcurrency 2, vdiExportConcurrency 12).</summary>
public sealed record PoolLimits(int Snapshots = 2, int Transfers = 12)
{
    public int Capacity(SlotKind kind) => kind == SlotKind.Snapshot ? Snapshots : Transfers;
}

/// <summary>
/// The slots of one pool: leases held and requests waiting, first come first served per kind (a large request is
/// never overtaken, so it cannot starve). A request for more than the capacity takes the whole capacity. Pure:
/// each call returns the new state and the leases it granted.
/// </summary>
public sealed record PoolSlots(PoolLimits Limits)
{
    public ImmutableDictionary<string, AcquireSlots> Held { get; init; } = ImmutableDictionary<string, AcquireSlots>.Empty;

    public ImmutableList<AcquireSlots> Waiting { get; init; } = [];

    public int InUse(SlotKind kind) => Held.Values.Where(l => l.Kind == kind).Sum(Size);

    public (PoolSlots State, IReadOnlyList<AcquireSlots> Granted) Acquire(AcquireSlots request)
        => Held.ContainsKey(request.LeaseId) || Waiting.Any(w => w.LeaseId == request.LeaseId)
            ? (this, [])
            : (this with { Waiting = Waiting.Add(request) }).Grant();

    public (PoolSlots State, IReadOnlyList<AcquireSlots> Granted) Release(string leaseId)
        => (this with { Held = Held.Remove(leaseId), Waiting = Waiting.RemoveAll(w => w.LeaseId == leaseId) }).Grant();

    /// <summary>A node left: whatever it held or asked for goes.</summary>
    public (PoolSlots State, IReadOnlyList<AcquireSlots> Granted) ReleaseNode(string node)
        => (this with
        {
            Held = Held.RemoveRange(Held.Where(h => h.Value.OwnerNode == node).Select(h => h.Key)),
            Waiting = Waiting.RemoveAll(w => w.OwnerNode == node),
        }).Grant();

    private int Size(AcquireSlots request) => Math.Clamp(request.Count, 1, Limits.Capacity(request.Kind));

    private (PoolSlots, IReadOnlyList<AcquireSlots>) Grant()
    {
        var state = this;
        var granted = new List<AcquireSlots>();
        foreach (var kind in Enum.GetValues<SlotKind>())
        {
            while (state.Waiting.FirstOrDefault(w => w.Kind == kind) is { } next && state.InUse(kind) + Size(next) <= Limits.Capacity(kind))
            {
                state = state with { Waiting = state.Waiting.Remove(next), Held = state.Held.Add(next.LeaseId, next) };
                granted.Add(next);
            }
        }

        return (state, granted);
    }
}
