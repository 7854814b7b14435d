using XcrCluster.Domain;
using XcrCluster.Xapi.Mirror;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// The target half of Xen Orchestra 6.5's content-key fallback (xo-cr-semantics §2.6). Per queried source snapshot disk: a
/// managed restore point disk on the SR whose xo:backup:contentKey is the snapshot's content key and which is not a snapshot of
/// the live source disk itself; else, as Xen Orchestra then does, this job's restore point marked as a copy of it, else a plain
/// disk marked so (older layouts, seeds). Only the newest group of snapshots with a match stays. The replica holding those
/// restore points is updated in place only as Xen Orchestra allows it (each restore point's disk attached to exactly one VM,
/// the same VM, halted, and no block changed since the restore point), and only when it is a replica (start blocked by
/// replication): a VM a person made is never written. Otherwise a new replica is built from clones of the restore points.
/// </summary>
public sealed partial class TargetReplica
{
    public async Task FindByContentAsync(IReadOnlyList<ContentSnapshotDisk> queries, CancellationToken ct)
    {
        var byRef = await pool.SetAsync<VdiRecord>(ct).ConfigureAwait(false);
        var found = new Dictionary<string, VdiRecord>(StringComparer.Ordinal);
        foreach (var query in queries)
        {
            var onSr = OnSr(byRef.WhereAny([PoolIndex.Content(query.ContentKey), PoolIndex.CopiesOf(query.SnapshotVdiUuid)]));
            var match = Newest(onSr.Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.ContentKey) == query.ContentKey
                    && byRef.Find(v.SnapshotOf)?.Uuid != query.LiveVdiUuid))
                ?? Newest(onSr.Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf) == query.SnapshotVdiUuid
                    && IsOfThisJob(v.OtherConfig)))
                ?? onSr.FirstOrDefault(v => !v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf) == query.SnapshotVdiUuid
                    && v.Uuid != query.LiveVdiUuid);
            if (match is not null)
            {
                found[query.SnapshotVdiUuid] = match;
            }
        }

        bases.Clear();
        foreach (var kept in ContentKeyFallback.Winner(queries, found.ContainsKey))
        {
            bases[kept.SnapshotVdiUuid] = found[kept.SnapshotVdiUuid];
        }

        (LiveTarget, Note) = await HolderAsync(byRef, ct).ConfigureAwait(false);
    }

    private static VdiRecord? Newest(IEnumerable<VdiRecord> disks)
        => disks.OrderByDescending(v => v.OtherConfig.GetValueOrDefault(XoMetadata.Datetime), StringComparer.Ordinal).FirstOrDefault();

    /// <summary>The replica to update in place, or null with why not (null when there is nothing worth saying).</summary>
    private async Task<(VmRecord? Vm, string? Note)> HolderAsync(RecordSet<VdiRecord> byRef, CancellationToken ct)
    {
        // A plain disk (older layouts, seeds): Xen Orchestra never updates a VM in place from those.
        if (bases.Count == 0 || bases.Values.Any(v => !v.IsASnapshot))
        {
            return (null, null);
        }

        VmRecord? holder = null;
        foreach (var point in bases.Values)
        {
            if (byRef.Find(point.SnapshotOf) is not { } active)
            {
                return (null, null); // the disk the restore point was taken of is gone: nothing to update
            }

            var users = new List<VmRecord>();
            foreach (var vbdRef in active.Vbds)
            {
                var owner = await pool.VmAsync((await pool.RecordAsync<VbdRecord>(vbdRef, ct).ConfigureAwait(false)).Vm)
                    .ConfigureAwait(false);
                if (!owner.IsControlDomain)
                {
                    users.Add(owner);
                }
            }

            if (users.Count != 1 || (holder is not null && holder.Ref != users[0].Ref))
            {
                return (null, users.Count == 0 ? null : $"disk {active.Uuid} holding the content is attached to {users.Count} VMs, or "
                    + "the disks are on different VMs: a new replica is built from the restore points");
            }

            holder = users[0];
        }

        var why = holder!.PowerState != "Halted" ? $"it is {holder.PowerState.ToLowerInvariant()}"
            : holder.BlockedOperations.GetValueOrDefault("start") != XoMetadata.StartBlocked
                ? "it is not a replica (its start is not blocked by replication): never written"
                : null;
        foreach (var point in why is null ? bases.Values.ToList() : [])
        {
            try
            {
                if (await ChangedBlocksAsync(point.SnapshotOf, point.Ref, ct).ConfigureAwait(false) is > 0 and var changed)
                {
                    why = $"{changed} blocks of its disk {byRef.Find(point.SnapshotOf)!.NameLabel} changed since the restore point holding "
                        + "the content";
                    break;
                }
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // Unknown is not unchanged: the replica is left as it is and the clones carry the chain on.
                why = $"its disk {byRef.Find(point.SnapshotOf)!.NameLabel} could not be compared with the restore point: {e.Message}";
                break;
            }
        }

        return why is null ? (holder, null)
            : (null, $"VM {holder.Uuid} ({holder.NameLabel}) holding that content is left as it is ({why}): a new replica is built "
                + "from the restore point");
    }
}
