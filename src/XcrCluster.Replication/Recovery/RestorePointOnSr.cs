using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>A committed restore point of a source VM on a target SR (Xen Orchestra's metadata: a snapshot with
/// <c>xo:backup:sr</c>, <c>xo:backup:vm</c> and <c>xo:copy_of</c>; a run's uncommitted objects left out) and the live
/// replica it is a snapshot of, if that still exists.</summary>
public sealed record RestorePointOnSr(VmRecord Point, VmRecord? Replica)
{
    public string Datetime => Point.OtherConfig.GetValueOrDefault(XoMetadata.Datetime) ?? "";

    /// <summary>Every restore point of <paramref name="vmUuid"/> on <paramref name="srUuid"/> (of one job when
    /// <paramref name="jobId"/> is given), newest first.</summary>
    public static async Task<IReadOnlyList<RestorePointOnSr>> ListAsync(Pool pool, string vmUuid, string srUuid, string? jobId,
        CancellationToken ct)
    {
        var vms = await pool.AllAsync<VmRecord>(ct).ConfigureAwait(false);
        var byRef = vms.ToDictionary(v => v.Ref);
        return [.. vms.Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == srUuid
                && v.OtherConfig.GetValueOrDefault(XoMetadata.Vm) == vmUuid && v.OtherConfig.ContainsKey(XoMetadata.CopyOf)
                && (jobId is null || v.OtherConfig.GetValueOrDefault(XoMetadata.Job) == jobId)
                && !v.OtherConfig.ContainsKey(RunScope.ImportingKey) && !v.OtherConfig.ContainsKey(RunScope.CommittingKey))
            .Select(v => new RestorePointOnSr(v, byRef.TryGetValue(v.SnapshotOf, out var r) && !r.IsASnapshot ? r : null))
            .OrderByDescending(p => p.Datetime, StringComparer.Ordinal)];
    }
}
