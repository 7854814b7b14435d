using XcrCluster.Domain;
using XcrCluster.Vhd;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Replication;

/// <summary>
/// On a target SR, what a run continues from: per source snapshot disk the target disk holding the same content
/// (the newest restore point disk of this job, else a plain disk marked as a copy of it: older layouts and seeds),
/// and the replica VM those disks belong to — only when it can be continued in place: halted, start still blocked
/// by replication, and its disks still equal to its last restore point (no block changed, checked with a delta
/// export's header as Xen Orchestra does, docs/xen-orchestra.md §7). A replica someone started, changed or deleted is
/// left as it is; the run then builds a new replica from the last restore point, still as a delta.
/// </summary>
public sealed partial class TargetReplica(Pool pool, SrRecord sr, JobRef job, string sourceVmUuid)
{
    private readonly Dictionary<string, VdiRecord> bases = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, VdiRecord> Bases => bases;

    /// <summary>The replica to update in place, or null: a new one is made at commit.</summary>
    public VmRecord? LiveTarget { get; private set; }

    /// <summary>Why a replica found was not continued in place, for the run's log.</summary>
    public string? Note { get; private set; }

    public async Task FindAsync(IReadOnlyList<string> snapshotVdiUuids, CancellationToken ct)
    {
        var vdis = await pool.SetAsync<VdiRecord>(ct).ConfigureAwait(false);
        foreach (var uuid in snapshotVdiUuids)
        {
            var onSr = OnSr(vdis.Where(PoolIndex.CopiesOf(uuid)));
            var found = onSr.Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf) == uuid
                && IsOfThisJob(v.OtherConfig))
                .OrderByDescending(v => v.OtherConfig.GetValueOrDefault(XoMetadata.Datetime), StringComparer.Ordinal).FirstOrDefault()
                ?? onSr.FirstOrDefault(v => !v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf) == uuid);
            if (found is not null)
            {
                bases[uuid] = found;
            }
        }

        var candidate = await CandidateAsync(ct).ConfigureAwait(false);
        var refusal = candidate is null ? null : await WhyNotContinuedAsync(candidate, ct).ConfigureAwait(false);
        LiveTarget = refusal is null ? candidate : null;
        Note = refusal is null ? null : $"replica {candidate!.Uuid} ({candidate.NameLabel}) is left as it is ({refusal}): a new replica "
            + $"is built from the last restore point";
    }

    /// <summary>The disks on this SR a base may be taken from: managed, no run's marker on them.</summary>
    private List<VdiRecord> OnSr(IEnumerable<VdiRecord> disks)
        => [.. disks.Where(v => v.Sr == sr.Ref && v.Managed && !v.OtherConfig.ContainsKey(RunScope.ImportingKey)
            && !v.OtherConfig.ContainsKey(RunScope.CommittingKey))];

    private bool IsOfThisJob(IReadOnlyDictionary<string, string> oc)
        => oc.GetValueOrDefault(XoMetadata.Job) == job.JobId && oc.GetValueOrDefault(XoMetadata.Vm) == sourceVmUuid;

    /// <summary>The VM the bases belong to: the VM a restore point was taken of, or the seed VM itself; else the VM
    /// behind this job's newest restore point on the SR. Null when it no longer exists (deleted by hand).</summary>
    private async Task<VmRecord?> CandidateAsync(CancellationToken ct)
    {
        foreach (var vdi in bases.Values)
        {
            foreach (var vbdRef in vdi.Vbds)
            {
                var vbd = await pool.RecordAsync<VbdRecord>(vbdRef, ct).ConfigureAwait(false);
                var owner = await pool.VmAsync(vbd.Vm).ConfigureAwait(false);
                return await TryVmAsync(owner.IsASnapshot ? owner.SnapshotOf : owner.Ref).ConfigureAwait(false);
            }
        }

        // No disk to go by (a diskless VM, or every disk full): the VM the newest restore point of this job was taken of.
        var newest = (await RestorePointsAsync(ct).ConfigureAwait(false)).FirstOrDefault();
        return newest is null ? null : await TryVmAsync(newest.SnapshotOf).ConfigureAwait(false);
    }

    /// <summary>This job's restore points of the VM on the SR, newest first.</summary>
    private async Task<List<VmRecord>> RestorePointsAsync(CancellationToken ct)
        => [.. (await pool.SetAsync<VmRecord>(ct).ConfigureAwait(false)).Where(PoolIndex.OfSourceVm(sourceVmUuid))
            .Where(v => v.IsASnapshot && IsOfThisJob(v.OtherConfig) && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == sr.Uuid)
            .OrderByDescending(v => v.OtherConfig.GetValueOrDefault(XoMetadata.Datetime), StringComparer.Ordinal)];

    private async Task<VmRecord?> TryVmAsync(string @ref)
    {
        if (@ref == XapiValue.NullRef)
        {
            return null;
        }

        try
        {
            return await pool.VmAsync(@ref).ConfigureAwait(false);
        }
        catch (XapiException e) when (e.Code == "HANDLE_INVALID")
        {
            return null; // the replica was deleted by hand: a new one is made
        }
    }

    /// <summary>Null when the replica can be updated in place; else why not.</summary>
    private async Task<string?> WhyNotContinuedAsync(VmRecord vm, CancellationToken ct)
    {
        if (vm.PowerState != "Halted")
        {
            return $"it is {vm.PowerState.ToLowerInvariant()}";
        }

        if (vm.BlockedOperations.GetValueOrDefault("start") != XoMetadata.StartBlocked)
        {
            return "its start is no longer blocked by replication: it was started or released";
        }

        var points = (await RestorePointsAsync(ct).ConfigureAwait(false)).Where(p => p.SnapshotOf == vm.Ref).ToList();
        if (points.Count == 0 && await OldFormatReplica.IsOlderXoReplicaAsync(pool, vm).ConfigureAwait(false))
        {
            return "it is a restore point of an older Xen Orchestra (one VM per run), left to retention";
        }

        if (points.Count == 0)
        {
            return null; // a seed: nothing to compare with yet
        }

        // The restore point the replica's disks were snapshotted into (runs within a second share a datetime, so the
        // newest by datetime is not enough to tell which).
        var disks = await pool.DisksAsync(vm).ConfigureAwait(false);
        IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)>? pointDisks = null;
        foreach (var point in points)
        {
            var held = await pool.DisksAsync(point).ConfigureAwait(false);
            if (held.Count == disks.Count && held.All(p => disks.Any(d => d.Vdi.Ref == p.Vdi.SnapshotOf)))
            {
                pointDisks = held;
                break;
            }
        }

        if (pointDisks is null)
        {
            return "its disks are not those of its last restore point";
        }

        foreach (var (_, point) in pointDisks)
        {
            if (await ChangedBlocksAsync(point.SnapshotOf, point.Ref, ct).ConfigureAwait(false) is > 0 and var changed)
            {
                return $"{changed} blocks of its disk {point.NameLabel} changed since its last restore point";
            }
        }

        return null;
    }

    /// <summary>How many blocks differ between a disk and a snapshot of it: the BAT of a delta export, whose body is
    /// then left unread (the connection closes and the pool ends its task).</summary>
    private async Task<int> ChangedBlocksAsync(string vdi, string baseVdi, CancellationToken ct)
    {
        await using var export = await pool.Client.ExportVdiAsync(vdi, VdiFormat.Vhd, baseVdi, ct: ct).ConfigureAwait(false);
        var reader = await VhdStreamReader.OpenAsync(export.Content, ct).ConfigureAwait(false);
        return reader.PresentBlocks.Count;
    }
}
