using XcrCluster.Domain;
using XcrCluster.Domain.Recovery;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// Failback of one VM after a forced or planned failover, as Xen Orchestra 6.5's reverse replication does it
/// (docs/xen-orchestra.md §9): only the blocks the running replica changed since the newest snapshot both sides share
/// (<see cref="FailbackBase"/>) go back — a snapshot of the replica, then per disk a VHD delta against that restore point —
/// into the original VM's disks in place when the original is halted and unchanged since the shared snapshot (a delta of
/// its disk against the source snapshot has no block), else into a new VM on the original's SR made from a copy of the
/// source snapshot. The replica is never changed (its snapshot for the transfer is removed again); a new VM this made is
/// destroyed when a later step fails.
/// </summary>
public static class Failback
{
    /// <summary>On the original VM after a failback: the replica it came back from, and the VM that holds the data.</summary>
    public const string FailedBackFromKey = "xcr:failed-back-from";
    public const string FailedBackVmKey = "xcr:failed-back-vm";

    /// <summary>On a new VM a failback made: the original VM it stands for.</summary>
    public const string FailbackOfKey = "xcr:failback-of";

    public static async Task<RecoveryVmOutcome> RunAsync(IFailbackReplica replicaPool, Pool sourcePool, ReverseDelta step,
        CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        try
        {
            var found = await log.StepAsync($"find the snapshot the replica on pool {replicaPool.Name} and VM {step.Vm} share",
                () => FailbackBase.FindAsync(replicaPool, sourcePool, step.Vm, ct)).ConfigureAwait(false);
            var details = new Dictionary<string, string>
            {
                ["replica"] = found.Replica.Uuid, ["replicaPool"] = replicaPool.Name, ["restorePoint"] = found.Point.Uuid,
                ["sourceSnapshot"] = found.SourceSnapshot.Uuid,
            };
            if (found.Original.OtherConfig.GetValueOrDefault(FailedBackFromKey) == found.Replica.Uuid)
            {
                var holder = found.Original.OtherConfig.GetValueOrDefault(FailedBackVmKey) ?? step.Vm;
                if (!step.SkipIfDone)
                {
                    throw new RecoveryRefusedException($"VM {step.Vm} was failed back from replica {found.Replica.Uuid} already "
                        + $"(into VM {holder}): resume with --resume");
                }

                log.Note($"failed back already into VM {holder}");
                details["already"] = "true";
                return log.Succeeded(holder, details);
            }

            var inPlace = await log.StepAsync("check the original VM since the shared snapshot",
                () => UnchangedAsync(sourcePool, found, ct)).ConfigureAwait(false);
            var target = await SendBackAsync(replicaPool, sourcePool, found, inPlace, details, log, ct).ConfigureAwait(false);
            await log.StepAsync("mark the original VM failed back", () => sourcePool.SetVmOtherConfigAsync(found.Original.Ref,
                new Dictionary<string, string?> { [FailedBackFromKey] = found.Replica.Uuid, [FailedBackVmKey] = target.Uuid }))
                .ConfigureAwait(false);
            details["mode"] = inPlace ? "in-place" : "new-vm";
            details["name"] = target.NameLabel;
            return log.Succeeded(target.Uuid, details);
        }
        catch (Exception e)
        {
            return log.Failed(e);
        }
    }

    /// <summary>Whether the original can take the blocks in place: halted (nothing writes to it) and no block of its disks
    /// differs from the shared source snapshot.</summary>
    private static async Task<bool> UnchangedAsync(Pool sourcePool, FailbackBase found, CancellationToken ct)
    {
        if (found.Original.PowerState != "Halted")
        {
            return false;
        }

        foreach (var disk in found.Disks)
        {
            var changed = await DeltaBack.ChangedBlocksAsync(sourcePool, disk.OriginalLive.Ref, disk.SourceSnapshotVdi.Ref, ct)
                .ConfigureAwait(false);
            if (changed > 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every disk's delta is read first (a failure there changes nothing on the original pool), then written.</summary>
    private static async Task<VmRecord> SendBackAsync(IFailbackReplica replicaPool, Pool sourcePool, FailbackBase found, bool inPlace,
        Dictionary<string, string> details, RecoveryLog log, CancellationToken ct)
    {
        var deltas = new Dictionary<string, DeltaBack.Delta>();
        try
        {
            await replicaPool.ReadDeltasAsync(found, deltas, log, ct).ConfigureAwait(false);
            var target = inPlace ? found.Original : await log.StepAsync($"copy source snapshot {found.SourceSnapshot.Uuid} to a new VM",
                () => NewVmAsync(sourcePool, found)).ConfigureAwait(false);
            try
            {
                var targetDisks = (await sourcePool.DisksAsync(target).ConfigureAwait(false)).ToDictionary(d => d.Vbd.Userdevice);
                var written = new List<string>();
                foreach (var (userdevice, delta) in deltas)
                {
                    var vdi = targetDisks[userdevice].Vdi;
                    try
                    {
                        await log.StepAsync($"write {delta.Blocks} blocks into disk {userdevice} (VDI {vdi.Uuid}) of VM {target.Uuid}",
                            () => delta.ImportAsync(sourcePool, vdi.Ref, ct)).ConfigureAwait(false);
                    }
                    catch (Exception e) when (inPlace && written.Count > 0)
                    {
                        // Written disks cannot be taken back; the original now differs from the shared snapshot, so a
                        // new attempt makes a new VM from it and loses nothing.
                        throw new InvalidOperationException($"{e.Message}; disk(s) {string.Join(", ", written)} of the original were "
                            + "written already: run the failback again (it makes a new VM from the shared snapshot)", e);
                    }

                    written.Add(userdevice);
                }
            }
            catch when (!inPlace)
            {
                // The new VM is this command's own: it goes, so a failure leaves the original pool as it was.
                await sourcePool.DestroyVmAsync(await sourcePool.VmAsync(target.Ref).ConfigureAwait(false)).ConfigureAwait(false);
                throw;
            }

            details["blocks"] = deltas.Values.Sum(d => d.Blocks).ToString(System.Globalization.CultureInfo.InvariantCulture);
            details["bytes"] = deltas.Values.Sum(d => d.Length).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return await sourcePool.VmAsync(target.Ref).ConfigureAwait(false);
        }
        finally
        {
            foreach (var delta in deltas.Values)
            {
                delta.Dispose();
            }
        }
    }

    /// <summary>The name of the replica's snapshot a failback reads its deltas from (removed again by the same command).</summary>
    public static string SnapshotLabel(FailbackBase found) => $"xcr failback of {found.Original.Uuid}";

    /// <summary>A full copy of the shared source snapshot on the original's SR, made a halted VM of its own (no job metadata,
    /// so no run takes it for a snapshot or a replica).</summary>
    private static async Task<VmRecord> NewVmAsync(Pool sourcePool, FailbackBase found)
    {
        var name = $"{found.Original.NameLabel} (failback)";
        var copy = await sourcePool.CopyVmAsync(found.SourceSnapshot.Ref, name, found.Disks[0].OriginalLive.Sr).ConfigureAwait(false);
        try
        {
            await sourcePool.SetIsATemplateAsync(copy, false).ConfigureAwait(false);
            var record = await sourcePool.VmAsync(copy).ConfigureAwait(false);
            var reset = XoMetadata.ReplicationKeys.ToDictionary(k => k, string? (_) => null);
            await sourcePool.StampAsync(record, reset).ConfigureAwait(false);
            await sourcePool.SetVmOtherConfigAsync(copy, new Dictionary<string, string?> { [FailbackOfKey] = found.Original.Uuid })
                .ConfigureAwait(false);
            return await sourcePool.VmAsync(copy).ConfigureAwait(false);
        }
        catch
        {
            await sourcePool.DestroyVmAsync(await sourcePool.VmAsync(copy).ConfigureAwait(false)).ConfigureAwait(false);
            throw;
        }
    }
}
