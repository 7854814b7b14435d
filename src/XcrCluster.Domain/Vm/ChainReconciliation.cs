using System.Collections.Immutable;

namespace XcrCluster.Domain.Vm;

/// <summary>
/// The pools stay the truth: the entity's chains on a target SR are compared with what the SR holds for the VM
/// (<see cref="SrObservation"/>) and become it. Each difference is named — a restore point deleted by hand, one made by
/// Xen Orchestra or another tool, the replica deleted, the chain broken (the restore point of the last exported
/// snapshot gone, so the next delta to this SR cannot start from it) — for the run's log.
/// </summary>
public static class ChainReconciliation
{
    public static (ImmutableList<ReplicaChain> Chains, IReadOnlyList<ChainDifference> Differences) Reconcile(
        IReadOnlyList<ReplicaChain> model, SrObservation observed)
    {
        var differences = new List<ChainDifference>();
        var chains = ImmutableList.CreateBuilder<ReplicaChain>();
        var sr = new SrId(observed.SrUuid);
        var onSr = model.Where(c => c.Key.SrUuid == sr).ToList();
        var seenByChain = observed.RestorePoints.GroupBy(p => new ChainKey(new JobId(p.JobId), new ScheduleId(p.ScheduleId), sr))
            .ToDictionary(g => g.Key, g => g.OrderBy(p => p.SnapshotTime).ThenBy(p => p.Uuid, StringComparer.Ordinal).ToList());
        foreach (var key in onSr.Select(c => c.Key).Concat(seenByChain.Keys).Distinct())
        {
            var known = onSr.FirstOrDefault(c => c.Key == key);
            var seen = seenByChain.GetValueOrDefault(key) ?? [];
            var chain = Reconcile(key, observed, known, seen, differences);
            if (chain is not null)
            {
                chains.Add(chain);
            }
        }

        return (chains.ToImmutable(), differences);
    }

    private static ReplicaChain? Reconcile(ChainKey key, SrObservation observed, ReplicaChain? known,
        List<ObservedRestorePoint> seen, List<ChainDifference> differences)
    {
        var knownPoints = known?.RestorePoints ?? [];

        // Restore points of one second (formatDateTime's resolution) keep the order the entity saw them committed in, so the
        // newest stays last: retention and failover read "newest" from this order.
        seen = [.. seen.OrderBy(p => p.SnapshotTime).ThenBy(p => Position(knownPoints, p.Uuid))
            .ThenBy(p => p.Uuid, StringComparer.Ordinal)];
        foreach (var gone in knownPoints.Where(p => seen.All(s => s.Uuid != p.Uuid)))
        {
            differences.Add(new ChainDifference(ChainDifferenceKind.RestorePointDeleted, key, gone.Uuid,
                $"restore point {gone.Uuid}{At(gone.SnapshotTime)} of job {key.JobId} / schedule {key.ScheduleId} is no longer "
                + $"on SR {key.SrUuid} (deleted outside xcr)"));
        }

        foreach (var added in seen.Where(s => knownPoints.All(p => p.Uuid != s.Uuid)))
        {
            differences.Add(new ChainDifference(ChainDifferenceKind.RestorePointAdded, key, added.Uuid,
                $"restore point {added.Uuid}{At(added.SnapshotTime)} of job {key.JobId} / schedule {key.ScheduleId} on SR "
                + $"{key.SrUuid} was not made by xcr (Xen Orchestra or another tool)"));
        }

        var replica = known?.ReplicaVmUuid;
        if (replica is not null && !observed.LiveReplicas.Contains(replica, StringComparer.Ordinal))
        {
            differences.Add(new ChainDifference(ChainDifferenceKind.ReplicaDeleted, key, replica,
                $"replica VM {replica} of job {key.JobId} on SR {key.SrUuid} is gone (deleted outside xcr)"));
            replica = null;
        }

        // The replica the newest restore point was taken of is the one a run continues (docs/xen-orchestra.md §10).
        replica = seen.LastOrDefault(p => p.ReplicaVmUuid is not null)?.ReplicaVmUuid ?? replica;
        var baseSnapshot = known?.BaseSnapshotUuid;
        var length = known?.DeltaChainLength;
        if (baseSnapshot is not null && seen.All(p => p.CopyOf != baseSnapshot))
        {
            differences.Add(new ChainDifference(ChainDifferenceKind.ChainBroken, key, baseSnapshot,
                $"chain of job {key.JobId} on SR {key.SrUuid} is broken: no restore point holds source snapshot {baseSnapshot} "
                + "any more, the next run to this SR starts from an older restore point or a full"));
            baseSnapshot = null;
        }

        if (baseSnapshot is null)
        {
            // What the SR says: the newest restore point's source snapshot; the chain's length is unknown until a run.
            baseSnapshot = seen.LastOrDefault()?.CopyOf;
            length = null;
        }

        if (seen.Count == 0 && replica is null)
        {
            return null;
        }

        var points = seen.Select(s => knownPoints.FirstOrDefault(p => p.Uuid == s.Uuid)
            ?? new RestorePoint(s.Uuid, s.SnapshotTime, s.Size));
        return new ReplicaChain(key, observed.Pool, replica, [.. points], baseSnapshot, length);
    }

    private static int Position(ImmutableList<RestorePoint> known, string uuid)
        => known.FindIndex(p => p.Uuid == uuid) is var i and >= 0 ? i : int.MaxValue;

    private static string At(DateTimeOffset? time) => time is { } t ? $" ({t.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z)" : "";
}
