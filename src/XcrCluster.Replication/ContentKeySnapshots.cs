using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// The source half of Xen Orchestra 6.5's content-key fallback (xo-cr-semantics §2.5 step 4): every snapshot of the live disks
/// stamped with xo:backup:datetime, whatever job made it — this job's, another job's, a seed (stamped on its snapshot VM only,
/// as xo-cr-seed does), or, on a replica replicated onward, the restore points the upstream job took of it. Like Xen
/// Orchestra's _filterValidSnapshotVdis, a snapshot disk attached to anything but a snapshot of this VM is left out.
/// </summary>
public static class ContentKeySnapshots
{
    /// <summary>A candidate: its snapshot VM (empty for an orphan disk), its record, and what the selection reads.</summary>
    public sealed record Candidate(string SnapshotVm, VdiRecord Vdi, ContentSnapshotDisk Disk);

    public static async Task<IReadOnlyList<Candidate>> FindAsync(Pool pool, VmRecord vm,
        IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)> live)
    {
        var liveUuids = live.ToDictionary(d => d.Vdi.Ref, d => d.Vdi.Uuid, StringComparer.Ordinal);
        var owners = new Dictionary<string, VmRecord>(StringComparer.Ordinal);
        foreach (var snapshotRef in vm.Snapshots)
        {
            var snapshot = await pool.VmAsync(snapshotRef).ConfigureAwait(false);
            foreach (var (_, vdi) in await pool.DisksAsync(snapshot).ConfigureAwait(false))
            {
                owners[vdi.Ref] = snapshot;
            }
        }

        var result = new List<Candidate>();
        var vdis = await pool.SetAsync<VdiRecord>().ConfigureAwait(false);
        foreach (var vdi in vdis.WhereAny(live.Select(d => PoolIndex.SnapshotsOf(d.Vdi.Ref)))
            .Where(v => v.IsASnapshot && v.Type != "cbt_metadata" && !v.Missing))
        {
            var owner = owners.GetValueOrDefault(vdi.Ref);
            if (!liveUuids.TryGetValue(vdi.SnapshotOf, out var liveUuid) || (owner is null && vdi.Vbds.Count > 0)
                || vdi.OtherConfig.ContainsKey(RunScope.ImportingKey) || vdi.OtherConfig.ContainsKey(RunScope.CommittingKey))
            {
                continue;
            }

            // VDI-level metadata (Xen Orchestra 5.96+), else the snapshot VM's (older Xen Orchestra, xo-cr-seed).
            var datetime = vdi.OtherConfig.GetValueOrDefault(XoMetadata.Datetime)
                ?? owner?.OtherConfig.GetValueOrDefault(XoMetadata.Datetime);
            if (datetime is null)
            {
                continue;
            }

            var key = vdi.OtherConfig.GetValueOrDefault(XoMetadata.ContentKey) ?? vdi.Uuid;
            result.Add(new Candidate(owner?.Ref ?? "", vdi, new ContentSnapshotDisk(vdi.Uuid, liveUuid, datetime, key)));
        }

        return result;
    }
}
