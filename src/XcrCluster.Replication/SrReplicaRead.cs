using System.Globalization;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
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
        var vms = await pool.AllAsync<VmRecord>(ct).ConfigureAwait(false);
        var vbds = (await pool.AllAsync<VbdRecord>(ct).ConfigureAwait(false)).ToDictionary(v => v.Ref);
        var vdis = (await pool.AllAsync<VdiRecord>(ct).ConfigureAwait(false)).ToDictionary(v => v.Ref);
        var byRef = vms.ToDictionary(v => v.Ref);
        var points = vms.Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == srUuid
                && v.OtherConfig.GetValueOrDefault(XoMetadata.Vm) == vmUuid && v.OtherConfig.ContainsKey(XoMetadata.CopyOf)
                && !v.OtherConfig.ContainsKey(RunScope.ImportingKey) && !v.OtherConfig.ContainsKey(RunScope.CommittingKey))
            .Select(v => new ObservedRestorePoint(v.Uuid, v.OtherConfig.GetValueOrDefault(XoMetadata.Job) ?? "",
                v.OtherConfig.GetValueOrDefault(XoMetadata.Schedule) ?? "", Time(v), Size(v, vbds, vdis),
                v.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf),
                byRef.TryGetValue(v.SnapshotOf, out var replica) && !replica.IsASnapshot ? replica.Uuid : null))
            .ToList();
        var live = vms.Where(v => !v.IsASnapshot && (knownReplicas.Contains(v.Uuid) || points.Any(p => p.ReplicaVmUuid == v.Uuid)))
            .Select(v => v.Uuid).ToList();
        return new SrObservation(poolName, srUuid, points, live);
    }

    /// <summary>The restore point's datetime (formatDateTime, <see cref="XoMetadata.FormatDateTime"/>), else XAPI's snapshot
    /// time.</summary>
    private static DateTimeOffset? Time(VmRecord v)
        => DateTimeOffset.TryParseExact(v.OtherConfig.GetValueOrDefault(XoMetadata.Datetime), "yyyyMMdd'T'HH:mm:ss'Z'",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at.Year > 1970 ? at
            : v.SnapshotTime.Year > 1970 ? new DateTimeOffset(DateTime.SpecifyKind(v.SnapshotTime, DateTimeKind.Utc)) : null;

    /// <summary>What the restore point's disks take on the SR.</summary>
    private static long Size(VmRecord v, Dictionary<string, VbdRecord> vbds, Dictionary<string, VdiRecord> vdis)
        => v.Vbds.Select(r => vbds.GetValueOrDefault(r)).Where(b => b is { IsDisk: true })
            .Sum(b => vdis.GetValueOrDefault(b!.Vdi)?.PhysicalUtilisation ?? 0);
}
