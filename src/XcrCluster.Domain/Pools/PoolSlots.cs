using System.Collections.Immutable;

namespace XcrCluster.Domain.Pools;

/// <summary>Xen Orchestra's per-pool limits (xo-server [xapiOptions]: vmSnapshotConcurrency 2, vdiExportConcurrency 12), and
/// how long a lease may be held (a run that lost track of it must not block the pool for ever) and a request may wait.</summary>
public sealed record PoolLimits(int Snapshots = 2, int Transfers = 12)
{
    /// <summary>A lease is held by one step of a run (a snapshot, a disk's transfer): a day is far beyond any.</summary>
    public static readonly TimeSpan DefaultMaxHold = TimeSpan.FromHours(24);

    /// <summary>Runs queue behind each other's transfers; a request still waiting after this fails.</summary>
    public static readonly TimeSpan DefaultMaxWait = TimeSpan.FromHours(12);

    public TimeSpan MaxHold { get; init; } = DefaultMaxHold;

    public TimeSpan MaxWait { get; init; } = DefaultMaxWait;

    public int Capacity(SlotKind kind) => kind == SlotKind.Snapshot ? Snapshots : Transfers;
}

/// <summary>
/// The slots of one pool: leases held and requests waiting, first come first served per kind (a large request is
/// never overtaken, so it cannot starve). A request for more than the capacity takes the whole capacity. A lease held
/// longer than <see cref="PoolLimits.MaxHold"/> is reclaimed and a request waiting longer than
/// <see cref="PoolLimits.MaxWait"/> is dropped (<see cref="Expire"/>). Pure: each call returns the new state and the
/// leases it granted.
/// </summary>
public sealed record PoolSlots(PoolLimits Limits)
{
    public ImmutableDictionary<string, AcquireSlots> Held { get; init; } = ImmutableDictionary<string, AcquireSlots>.Empty;

    public ImmutableList<AcquireSlots> Waiting { get; init; } = [];

    /// <summary>When each lease was granted, or each waiting request was made.</summary>
    public ImmutableDictionary<string, DateTimeOffset> Since { get; init; } = ImmutableDictionary<string, DateTimeOffset>.Empty;

    public int InUse(SlotKind kind) => Held.Values.Where(l => l.Kind == kind).Sum(Size);

    public (PoolSlots State, IReadOnlyList<AcquireSlots> Granted) Acquire(AcquireSlots request, DateTimeOffset? now = null)
        => Held.ContainsKey(request.LeaseId) || Waiting.Any(w => w.LeaseId == request.LeaseId)
            ? (this, [])
            : (this with { Waiting = Waiting.Add(request), Since = Since.SetItem(request.LeaseId, now ?? DateTimeOffset.UtcNow) })
                .Grant(now);

    public (PoolSlots State, IReadOnlyList<AcquireSlots> Granted) Release(string leaseId, DateTimeOffset? now = null)
        => Without([leaseId]).Grant(now);

    /// <summary>A node left: whatever it held or asked for goes.</summary>
    public (PoolSlots State, IReadOnlyList<AcquireSlots> Granted) ReleaseNode(string node, DateTimeOffset? now = null)
        => Without([.. Held.Values.Concat(Waiting).Where(l => l.OwnerNode == node).Select(l => l.LeaseId)]).Grant(now);

    /// <summary>Leases held longer than <see cref="PoolLimits.MaxHold"/> are reclaimed and requests waiting longer than
    /// <see cref="PoolLimits.MaxWait"/> dropped; what that frees is granted.</summary>
    public SlotExpiry Expire(DateTimeOffset now)
    {
        List<AcquireSlots> reclaimed = [.. Held.Values.Where(l => now - Since.GetValueOrDefault(l.LeaseId, now) > Limits.MaxHold)];
        List<AcquireSlots> timedOut = [.. Waiting.Where(w => now - Since.GetValueOrDefault(w.LeaseId, now) > Limits.MaxWait)];
        var (state, granted) = Without([.. reclaimed.Concat(timedOut).Select(l => l.LeaseId)]).Grant(now);
        return new SlotExpiry(state, reclaimed, timedOut, granted);
    }

    private PoolSlots Without(IReadOnlyCollection<string> leaseIds) => this with
    {
        Held = Held.RemoveRange(leaseIds),
        Waiting = Waiting.RemoveAll(w => leaseIds.Contains(w.LeaseId)),
        Since = Since.RemoveRange(leaseIds),
    };

    private int Size(AcquireSlots request) => Math.Clamp(request.Count, 1, Limits.Capacity(request.Kind));

    private (PoolSlots, IReadOnlyList<AcquireSlots>) Grant(DateTimeOffset? now)
    {
        var state = this;
        var granted = new List<AcquireSlots>();
        foreach (var kind in Enum.GetValues<SlotKind>())
        {
            while (state.Waiting.FirstOrDefault(w => w.Kind == kind) is { } next && state.InUse(kind) + Size(next) <= Limits.Capacity(kind))
            {
                state = state with
                {
                    Waiting = state.Waiting.Remove(next),
                    Held = state.Held.Add(next.LeaseId, next),
                    Since = state.Since.SetItem(next.LeaseId, now ?? DateTimeOffset.UtcNow),
                };
                granted.Add(next);
            }
        }

        return (state, granted);
    }
}

/// <summary>What <see cref="PoolSlots.Expire"/> did: the new state, the leases reclaimed, the requests dropped, and the
/// leases granted with what that freed.</summary>
public sealed record SlotExpiry(PoolSlots State, IReadOnlyList<AcquireSlots> Reclaimed, IReadOnlyList<AcquireSlots> TimedOut,
    IReadOnlyList<AcquireSlots> Granted);
