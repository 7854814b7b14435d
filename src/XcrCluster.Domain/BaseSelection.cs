namespace XcrCluster.Domain;

/// <summary>A job snapshot disk on the source as the base selection sees it.</summary>
/// <param name="SnapshotVdiUuid">The snapshot VDI.</param>
/// <param name="LiveVdiUuid">The live disk it is a snapshot of.</param>
public sealed record SourceSnapshotDisk(string SnapshotVdiUuid, string LiveVdiUuid, string Datetime, bool Exported, int DeltaChainLength);

/// <summary>Why a disk is sent full; shown in the run's task log.</summary>
public enum FullReason
{
    None,
    NoExportedSnapshot,
    MissingOnTarget,
    FullIntervalReached,
    NewDisk,

    /// <summary>The source could not compute the delta from the base (its export with a base failed).</summary>
    DeltaNotComputable,
}

/// <summary>Per live disk: the source snapshot VDI to diff against (null = full) and why it is full. A base found by content
/// key (<see cref="BaseOrigin.ContentKey"/>) keeps in <see cref="Reason"/> why this job's own chain gave none.</summary>
public sealed record DiskBase(string LiveVdiUuid, string? BaseSnapshotVdiUuid, FullReason Reason)
{
    /// <summary>Where the base comes from: this job's chain, or a snapshot of any job whose content a restore point on the
    /// target holds (Xen Orchestra 6.5's content-key fallback).</summary>
    public BaseOrigin Origin { get; init; }

    /// <summary>For a full disk: what the content-key fallback found, when it was tried.</summary>
    public ContentKeyOutcome Fallback { get; init; }

    /// <summary>"delta", "delta from … by content key (why)" or "full: why" as the task log shows it.</summary>
    public string Describe() => BaseSnapshotVdiUuid switch
    {
        not null when Origin == BaseOrigin.ContentKey => $"delta from {BaseSnapshotVdiUuid} by content key ({JobChainText()})",
        not null => "delta",
        _ => "full: " + FullText() + Fallback switch
        {
            ContentKeyOutcome.SeveralTargets => "; no content-key fallback with several targets (only with exactly one)",
            ContentKeyOutcome.NoMatch => "; no restore point on the target holds the content of a snapshot of this disk (content key)",
            ContentKeyOutcome.OtherDisks => "; the content-key fallback found a base for the other disks only",
            _ => "",
        },
    };

    private string FullText() => Reason switch
    {
        FullReason.NoExportedSnapshot => "no exported snapshot of this job to start from",
        FullReason.MissingOnTarget => "a target SR no longer has the base",
        FullReason.FullIntervalReached => "fullInterval reached",
        FullReason.NewDisk => "new disk",
        FullReason.DeltaNotComputable => "the source could not compute a delta from the base",
        _ => "no base",
    };

    private string JobChainText() => Reason switch
    {
        FullReason.NoExportedSnapshot => "no exported snapshot of this job",
        FullReason.MissingOnTarget => "no snapshot of this job on the target",
        FullReason.NewDisk => "no snapshot of this job of this disk",
        _ => "no base of this job",
    };
}

/// <summary>
/// Xen Orchestra's base selection (docs/xen-orchestra.md §6): the newest group of exported job snapshots (same
/// datetime), kept only for disks that every target can continue (intersection over targets), then fullInterval.
/// </summary>
public static class BaseSelection
{
    public static IReadOnlyList<DiskBase> Select(
        IReadOnlyCollection<string> liveDisks,
        IReadOnlyCollection<SourceSnapshotDisk> jobSnapshots,
        IReadOnlyList<Func<string, bool>> targetHasBase,
        int fullInterval,
        out int deltaChainLength)
    {
        var newest = jobSnapshots.Where(s => s.Exported).GroupBy(s => s.Datetime).OrderByDescending(g => g.Key, StringComparer.Ordinal)
            .FirstOrDefault();
        deltaChainLength = newest?.Max(s => s.DeltaChainLength) ?? 0;
        if (newest is null)
        {
            return liveDisks.Select(d => new DiskBase(d, null, FullReason.NoExportedSnapshot)).ToList();
        }

        var forced = fullInterval != 0 && fullInterval <= deltaChainLength + 1;
        var result = new List<DiskBase>();
        foreach (var disk in liveDisks)
        {
            // Two runs within one second share a datetime, so the group may hold two snapshots of a disk (rotation keeps
            // the whole group); as XO's intersection, any one every target still holds is the base.
            var candidates = newest.Where(s => s.LiveVdiUuid == disk).ToList();
            var snapshot = candidates.FirstOrDefault(s => targetHasBase.All(has => has(s.SnapshotVdiUuid)))
                ?? candidates.FirstOrDefault();
            result.Add(snapshot switch
            {
                null => new DiskBase(disk, null, FullReason.NewDisk),
                _ when !targetHasBase.All(has => has(snapshot.SnapshotVdiUuid)) => new DiskBase(disk, null, FullReason.MissingOnTarget),
                _ when forced => new DiskBase(disk, null, FullReason.FullIntervalReached),
                _ => new DiskBase(disk, snapshot.SnapshotVdiUuid, FullReason.None),
            });
        }

        return result;
    }

    /// <summary>The chain length the source snapshot records after this run: 0 after any full disk.</summary>
    public static int NextDeltaChainLength(IReadOnlyList<DiskBase> bases, int previous)
        => bases.Count == 0 || bases.Any(b => b.BaseSnapshotVdiUuid is null) ? 0 : previous + 1;
}

/// <summary>Retention as Xen Orchestra's getOldEntries: keep the newest N, return the rest, oldest first.</summary>
public static class Retention
{
    public static IReadOnlyList<T> OldEntries<T>(int keep, IEnumerable<T> entries, Func<T, string> datetime)
    {
        var ordered = entries.OrderBy(datetime, StringComparer.Ordinal).ToList();
        return ordered.Take(Math.Max(0, ordered.Count - Math.Max(0, keep))).ToList();
    }
}
