using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// Brings a replica that a commit left half-way back to a state the pool may show: the commit point is the
/// replica's VM.snapshot (one XAPI call makes the restore point with all its disks). When a snapshot of the replica
/// holds exactly its current disks, the commit passed that point and is finished (roll forward); otherwise it is
/// undone (roll back): a replica made by the run goes, an existing one gets its previous disks back.
/// </summary>
public static class ReplicaRecovery
{
    /// <summary>A disk of the replica as recorded before the commit changed it.</summary>
    public sealed record PreviousDisk(string Userdevice, bool Bootable, string Mode, string VdiUuid);

    public static string Encode(IEnumerable<(VbdRecord Vbd, VdiRecord Vdi)> disks)
        => string.Join(',', disks.Select(d => $"{d.Vbd.Userdevice}:{(d.Vbd.Bootable ? "true" : "false")}:{d.Vbd.Mode}:{d.Vdi.Uuid}"));

    public static IReadOnlyList<PreviousDisk> Decode(string? value)
        => [.. (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split(':')).Where(p => p.Length == 4)
            .Select(p => new PreviousDisk(p[0], p[1] == "true", p[2], p[3]))];

    /// <summary>Rolls the replica forward or back; returns how many objects it removed.</summary>
    public static async Task<int> RecoverAsync(RunScope scope, VmRecord replica)
    {
        var pool = scope.Pool;
        var disks = await pool.DisksAsync(replica).ConfigureAwait(false);
        var current = disks.Select(d => d.Vdi.Ref).ToHashSet(StringComparer.Ordinal);
        foreach (var snapshotRef in replica.Snapshots)
        {
            var snapshot = await pool.VmAsync(snapshotRef).ConfigureAwait(false);
            var held = await pool.DisksAsync(snapshot).ConfigureAwait(false);
            var consistent = disks.Count == 0 ? scope.IsMarked(snapshot.OtherConfig)
                : held.Count == disks.Count && held.All(h => current.Contains(h.Vdi.SnapshotOf));
            if (consistent)
            {
                return await RollForwardAsync(scope, replica, snapshot).ConfigureAwait(false);
            }
        }

        return await RollBackAsync(scope, replica, disks).ConfigureAwait(false);
    }

    /// <summary>The commit's end, also run by a commit that got there: the restore point loses the markers it inherited,
    /// disks the replica no longer uses go, the replica keeps only xo:backup:sr of the job keys and is start-blocked.</summary>
    public static async Task<int> RollForwardAsync(RunScope scope, VmRecord replica, VmRecord restorePoint)
    {
        var pool = scope.Pool;
        // The record of the old disks goes first and the marker last: a replica is unmarked only when it is done.
        var markers = new Dictionary<string, string?> { [RunScope.PreviousDisksKey] = null, [RunScope.ImportingKey] = null,
            [RunScope.CommittingKey] = null };
        await pool.SetVmOtherConfigAsync(restorePoint.Ref, markers).ConfigureAwait(false);
        var removed = 0;
        var disks = await pool.DisksAsync(replica).ConfigureAwait(false);
        foreach (var previous in Decode(replica.OtherConfig.GetValueOrDefault(RunScope.PreviousDisksKey)))
        {
            if (disks.All(d => d.Vdi.Uuid != previous.VdiUuid)
                && await TryVdiAsync(pool, previous.VdiUuid).ConfigureAwait(false) is { } old)
            {
                // Not quietly: the replica stays marked until its old disks are gone, so a failure here is finished later.
                await scope.DestroyVdiAsync(old, DestroyReason.ReplacedReplicaDisk, quiet: false).ConfigureAwait(false);
                removed++;
            }
        }

        await pool.ResetAsync(await pool.VmAsync(replica.Ref).ConfigureAwait(false)).ConfigureAwait(false);
        await pool.SetBlockedOperationsAsync(replica.Ref, new Dictionary<string, string?>
        {
            ["start"] = XoMetadata.StartBlocked, ["start_on"] = XoMetadata.StartBlocked,
        }).ConfigureAwait(false);
        foreach (var (_, vdi) in disks)
        {
            await pool.SetVdiOtherConfigAsync(vdi.Ref, new Dictionary<string, string?> { [RunScope.ImportingKey] = null })
                .ConfigureAwait(false);
            scope.Kept(vdi.Ref);
        }

        await pool.SetVmOtherConfigAsync(replica.Ref, markers).ConfigureAwait(false); // the replica is committed
        scope.Kept(replica.Ref);
        return removed;
    }

    /// <summary>Undoes a commit that did not reach its snapshot: a replica the run made is destroyed; an existing one
    /// gets back the disks it had (the run's disks go) and its start block.</summary>
    private static async Task<int> RollBackAsync(RunScope scope, VmRecord replica, IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)> disks)
    {
        var pool = scope.Pool;
        if (scope.IsCreatedMark(replica.OtherConfig))
        {
            await scope.DestroyVmAsync(replica, DestroyReason.LeftoverOfInterruptedRun).ConfigureAwait(false);
            return 1 + disks.Count;
        }

        // No record of the disks: the commit stopped before it detached any, so the disks are still the right ones.
        var recorded = replica.OtherConfig.ContainsKey(RunScope.PreviousDisksKey);
        var previous = Decode(replica.OtherConfig.GetValueOrDefault(RunScope.PreviousDisksKey));
        var removed = 0;
        foreach (var (vbd, vdi) in disks.Where(d => recorded && previous.All(p => p.VdiUuid != d.Vdi.Uuid)))
        {
            await pool.DestroyVbdAsync(vbd.Ref).ConfigureAwait(false);
            await scope.DestroyVdiAsync(vdi, DestroyReason.ReplacedReplicaDisk).ConfigureAwait(false);
            removed++;
        }

        foreach (var disk in previous.Where(p => disks.All(d => d.Vdi.Uuid != p.VdiUuid)))
        {
            if (await TryVdiAsync(pool, disk.VdiUuid).ConfigureAwait(false) is { } vdi)
            {
                await pool.AttachAsync(replica.Ref, vdi.Ref, disk.Userdevice, disk.Bootable, disk.Mode, marker: null).ConfigureAwait(false);
            }
        }

        await pool.SetBlockedOperationsAsync(replica.Ref, new Dictionary<string, string?>
        {
            ["start"] = XoMetadata.StartBlocked, ["start_on"] = XoMetadata.StartBlocked,
        }).ConfigureAwait(false);
        await pool.SetVmOtherConfigAsync(replica.Ref, new Dictionary<string, string?>
        {
            [RunScope.PreviousDisksKey] = null, [RunScope.CommittingKey] = null,
        }).ConfigureAwait(false);
        return removed;
    }

    private static async Task<VdiRecord?> TryVdiAsync(Pool pool, string uuid)
    {
        try
        {
            return await pool.VdiAsync(await pool.VdiRefAsync(uuid).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Xapi.XapiException e) when (e.Code is "UUID_INVALID" or "HANDLE_INVALID")
        {
            return null;
        }
    }
}
