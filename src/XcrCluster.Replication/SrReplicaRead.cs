using System.Globalization;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi.Mirror;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// What a target SR holds for a source VM, read by Xen Orchestra's metadata (docs/xen-orchestra.md §2, §10, §11) so
/// restore points made by Xen Orchestra count as well as ours: snapshots with <c>xo:backup:sr</c> = the SR,
/// <c>xo:backup:vm</c> = the VM and <c>xo:copy_of</c> (a restore point is a snapshot of the replica), by job and schedule;
/// a run's own objects not yet committed (its markers) are left out. Three reads of the pool, whatever its size.
/// </summary>
public static class SrReplicaRead
{
    public static async Task<SrObservation> ReadAsync(Pool pool, string poolName, string srUuid, string vmUuid,
        IReadOnlyCollection<string> knownReplicas, CancellationToken ct)
    {
        var vms = await pool.SetAsync<VmRecord>(ct).ConfigureAwait(false);
        var vbds = await pool.SetAsync<VbdRecord>(ct).ConfigureAwait(false);
        var vdis = await pool.SetAsync<VdiRecord>(ct).ConfigureAwait(false);
        var points = vms.Where(PoolIndex.OfSourceVm(vmUuid))
            .Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == srUuid
                && v.OtherConfig.GetValueOrDefault(XoMetadata.Vm) == vmUuid && v.OtherConfig.ContainsKey(XoMetadata.CopyOf)
                && !v.OtherConfig.ContainsKey(RunScope.ImportingKey) && !v.OtherConfig.ContainsKey(RunScope.CommittingKey))
            .Select(v => new ObservedRestorePoint(v.Uuid, v.OtherConfig.GetValueOrDefault(XoMetadata.Job) ?? "",
                v.OtherConfig.GetValueOrDefault(XoMetadata.Schedule) ?? "", Time(v), Size(v, vbds, vdis),
                v.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf),
                vms.Find(v.SnapshotOf) is { IsASnapshot: false } replica ? replica.Uuid : null))
            .ToList();
        var live = vms.WhereAny(knownReplicas.Concat(points.Select(p => p.ReplicaVmUuid).OfType<string>()).Select(PoolIndex.Uuid))
            .Where(v => !v.IsASnapshot).Select(v => v.Uuid).ToList();
        return new SrObservation(poolName, srUuid, points, live);
    }

    /// <summary>The restore point's datetime (formatDateTime, <see cref="XoMetadata.FormatDateTime"/>), else XAPI's snapshot
    /// time.</summary>
    private static DateTimeOffset? Time(VmRecord v)
        => DateTimeOffset.TryParseExact(v.OtherConfig.GetValueOrDefault(XoMetadata.Datetime), "yyyyMMdd'T'HH:mm:ss'Z'",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at.Year > 1970 ? at
            : v.SnapshotTime.Year > 1970 ? new DateTimeOffset(DateTime.SpecifyKind(v.SnapshotTime, DateTimeKind.Utc)) : null;

    /// <summary>What the restore point's disks take on the SR.</summary>
    private static long Size(VmRecord v, RecordSet<VbdRecord> vbds, RecordSet<VdiRecord> vdis)
        => v.Vbds.Select(vbds.Find).Where(b => b is { IsDisk: true }).Sum(b => vdis.Find(b!.Vdi)?.PhysicalUtilisation ?? 0);
}
