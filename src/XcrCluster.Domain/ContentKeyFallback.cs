namespace XcrCluster.Domain;

/// <summary>Where a disk's base comes from.</summary>
public enum BaseOrigin
{
    JobSnapshot,

    /// <summary>A snapshot of any job (a seed, another job, a cascade upstream's restore point) whose content key a
    /// restore point on the single target holds.</summary>
    ContentKey,
}

/// <summary>What the content-key fallback did for a disk left full.</summary>
public enum ContentKeyOutcome
{
    NotTried,

    /// <summary>More than one target: Xen Orchestra falls back only with exactly one writer.</summary>
    SeveralTargets,

    /// <summary>No snapshot of the disk has its content on the target.</summary>
    NoMatch,

    /// <summary>The newest snapshot group with a match on the target matched other disks, not this one.</summary>
    OtherDisks,
}

/// <summary>A snapshot of a live disk stamped with xo:backup:datetime, whatever job made it. <paramref name="ContentKey"/>
/// is its xo:backup:contentKey, or its own uuid when it has none (a source snapshot's content key is its own uuid, §2.7). Also
/// what the single target is asked: a restore point disk holding that content that is not a snapshot of the live source disk
/// <paramref name="LiveVdiUuid"/> itself (never chain onto the source's own chain).</summary>
public sealed record ContentSnapshotDisk(string SnapshotVdiUuid, string LiveVdiUuid, string Datetime, string ContentKey);

/// <summary>
/// Xen Orchestra 6.5's cross-job / reverse fallback (xo-cr-semantics §2.5 step 4): when no base of this job survived and there
/// is exactly one target, the snapshots of the live disks of any job are grouped by datetime, newest first; the first group of
/// which the target holds a disk's content (by content key) gives the bases, per disk. One deliberate difference: fullInterval
/// still applies (Xen Orchestra compares it with an undefined chain length there, so "force full" would not force one).
/// </summary>
public static class ContentKeyFallback
{
    /// <summary>Nothing survived for this job: every disk is full, and not because fullInterval forced it.</summary>
    public static bool Applies(IReadOnlyList<DiskBase> bases)
        => bases.Count > 0
            && bases.All(b => b.BaseSnapshotVdiUuid is null && b.Reason is not (FullReason.None or FullReason.FullIntervalReached));

    /// <summary>What the single target is asked: the candidate snapshot disks of the live disks, once each.</summary>
    public static IReadOnlyList<ContentSnapshotDisk> Queries(IReadOnlyList<DiskBase> bases, IEnumerable<ContentSnapshotDisk> candidates)
    {
        var live = bases.Select(b => b.LiveVdiUuid).ToHashSet(StringComparer.Ordinal);
        return [.. candidates.Where(c => live.Contains(c.LiveVdiUuid)).DistinctBy(c => c.SnapshotVdiUuid)];
    }

    /// <summary>The newest group (by datetime) of which the target holds some disk's content: those matched disks; empty when
    /// none. The target keeps only these as bases, so its choice of replica concerns the disks the run uses.</summary>
    public static IReadOnlyList<ContentSnapshotDisk> Winner(IEnumerable<ContentSnapshotDisk> candidates, Func<string, bool> targetHas)
        => [.. candidates.Where(c => targetHas(c.SnapshotVdiUuid)).GroupBy(c => c.Datetime).MaxBy(g => g.Key, StringComparer.Ordinal)
            ?? Enumerable.Empty<ContentSnapshotDisk>()];

    /// <summary>The bases after the fallback (the same list when it does not apply).</summary>
    /// <param name="targets">How many targets the run writes to.</param>
    /// <param name="targetHas">Whether the single target holds the content of a candidate snapshot disk.</param>
    /// <param name="deltaChainLength">This job's chain length (0 without an exported snapshot).</param>
    public static IReadOnlyList<DiskBase> Apply(IReadOnlyList<DiskBase> bases, IReadOnlyCollection<ContentSnapshotDisk> candidates,
        int targets, Func<string, bool> targetHas, int fullInterval, int deltaChainLength)
    {
        if (!Applies(bases))
        {
            return bases;
        }

        if (targets != 1)
        {
            return [.. bases.Select(b => b with { Fallback = ContentKeyOutcome.SeveralTargets })];
        }

        var winner = Winner(Queries(bases, candidates), targetHas);
        if (winner.Count == 0)
        {
            return [.. bases.Select(b => b with { Fallback = ContentKeyOutcome.NoMatch })];
        }

        var forced = fullInterval != 0 && fullInterval <= deltaChainLength + 1;
        return [.. bases.Select(b => winner.FirstOrDefault(c => c.LiveVdiUuid == b.LiveVdiUuid) switch
        {
            null => b with { Fallback = ContentKeyOutcome.OtherDisks },
            _ when forced => b with { Reason = FullReason.FullIntervalReached },
            var found => b with { BaseSnapshotVdiUuid = found.SnapshotVdiUuid, Origin = BaseOrigin.ContentKey },
        })];
    }
}
