using XcrCluster.Domain;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>The source side of a run (docs/xen-orchestra.md §4–§9, §11): checks, job snapshot discovery,
/// the snapshot with its metadata, marking it exported, and rotating old job snapshots.</summary>
public sealed class SourceVm(Pool pool, JobRef job, VmRecord vm)
{
    private readonly RunScope scope = new(pool, job, vm.Uuid);

    public VmRecord Vm { get; private set; } = vm;

    /// <summary>A job snapshot disk on the source: its snapshot VM and VDI and what the base selection needs.</summary>
    public sealed record JobSnapshot(string SnapshotVm, VdiRecord Vdi, SourceSnapshotDisk Disk);

    public async Task CheckEligibleAsync()
    {
        if (Vm.OtherConfig.GetValueOrDefault(XoMetadata.Job) == job.JobId && Vm.BlockedOperations.ContainsKey("start"))
        {
            throw new RunRefusedException("cannot backup a VM created by this very job");
        }

        // A replica may be replicated by another job (site A -> B -> C), as Xen Orchestra allows on purpose (its issue #1811:
        // xo:backup:sr stays on a live replica, "we can replicate a replication"), but never by the job that made it. A live
        // replica keeps only xo:backup:sr after each run; its restore points name the job that made them.
        if (Vm.OtherConfig.ContainsKey(XoMetadata.Sr) && Vm.BlockedOperations.GetValueOrDefault("start") == XoMetadata.StartBlocked)
        {
            foreach (var snapshot in Vm.Snapshots)
            {
                var point = await pool.VmAsync(snapshot).ConfigureAwait(false);
                if (point.OtherConfig.GetValueOrDefault(XoMetadata.Job) == job.JobId && point.OtherConfig.ContainsKey(XoMetadata.CopyOf))
                {
                    throw new RunRefusedException("a job never replicates its own replicas: this VM is a replica made by this job");
                }
            }
        }
    }

    /// <summary>What this version does not do yet is refused up front, before anything is created.</summary>
    public static void CheckSupported(VmRecord vm, IEnumerable<VdiRecord> disks)
    {
        if (vm.Tags.Contains(XoMetadata.MemoryBackupTag))
        {
            throw new RunRefusedException($"memory (checkpoint) replication is not supported: remove the tag "
                + $"{XoMetadata.MemoryBackupTag} to replicate the disks only");
        }

        if (disks.FirstOrDefault(d => d.VirtualSize > XoMetadata.MaxVhdDiskSize) is { } large)
        {
            throw new RunRefusedException($"disk {large.NameLabel} is {large.VirtualSize / (1024.0 * 1024 * 1024 * 1024):F2} TiB: disks "
                + $"over 2 TiB (the VHD limit, 2040 GiB) need qcow2 transfers, not supported yet");
        }
    }

    /// <summary>Blocks migration for the run (the snapshot and exports need the VM where it is); returns what
    /// restores the previous blocked operations afterwards. A VM being migrated is refused.</summary>
    public async Task<Func<Task>> BlockMigrationAsync()
    {
        if (Vm.CurrentOperations.Values.Any(op => op is "migrate_send" or "pool_migrate"))
        {
            throw new RunRefusedException("cannot backup a VM currently being migrated");
        }

        string[] operations = ["pool_migrate", "migrate_send"];

        // Our own entry is never "what it was before": a run killed before restoring left it, and saving it would
        // block migration for good.
        var previous = operations.ToDictionary(op => op,
            op => Vm.BlockedOperations.GetValueOrDefault(op) is { } reason && reason != XoMetadata.MigrationBlocked ? reason : null);
        await pool.SetBlockedOperationsAsync(Vm.Ref,
            operations.ToDictionary(op => op, string? (_) => XoMetadata.MigrationBlocked)).ConfigureAwait(false);
        return async () =>
        {
            await pool.SetBlockedOperationsAsync(Vm.Ref, previous).ConfigureAwait(false);
            await pool.UpdateAllowedOperationsAsync(Vm.Ref).ConfigureAwait(false); // XAPI keeps stale allowed_operations otherwise
        };
    }

    /// <summary>Skips the VM when a disk's chain holds more uncoalesced base copies (a hidden VDI whose single child is
    /// hidden too) than tolerated, as Xen Orchestra's <c>$assertHealthyVdiChains</c> before snapshotting.</summary>
    public async Task CheckChainsAsync(int tolerance)
    {
        var vdis = await pool.SetAsync<VdiRecord>().ConfigureAwait(false);
        foreach (var (_, disk) in await pool.DisksAsync(Vm).ConfigureAwait(false))
        {
            var uncoalesced = 0;
            for (var parent = disk.VhdParent; parent is not null && vdis.Where(PoolIndex.Uuid(parent)) is [var p, ..]; parent = p.VhdParent)
            {
                // As XO's _assertHealthyVdiChain: a managed only child is a leaf some SRs never coalesce into its parent.
                if (!p.Managed && vdis.Where(PoolIndex.Children(p.Uuid)) is [{ Managed: false }])
                {
                    uncoalesced++;
                }
            }

            if (uncoalesced > tolerance)
            {
                throw new RunRefusedException($"unhealthy VDI chain: {disk.NameLabel} has {uncoalesced} uncoalesced base "
                    + $"copies (tolerance {tolerance})", skipped: true);
            }
        }
    }

    /// <summary>Snapshots of the live disks stamped by this job for this VM (no xo:copy_of, so never a replica),
    /// plus seeds made by xo-cr-seed, which stamp the snapshot VM only.</summary>
    public async Task<IReadOnlyList<JobSnapshot>> JobSnapshotsAsync()
    {
        var live = (await pool.DisksAsync(Vm).ConfigureAwait(false)).ToDictionary(d => d.Vdi.Ref, d => d.Vdi.Uuid);
        var result = new List<JobSnapshot>();
        foreach (var snapshotRef in Vm.Snapshots)
        {
            var snapshot = await pool.VmAsync(snapshotRef).ConfigureAwait(false);
            var vmLevel = snapshot.OtherConfig;
            foreach (var (_, vdi) in await pool.DisksAsync(snapshot).ConfigureAwait(false))
            {
                if (!live.TryGetValue(vdi.SnapshotOf, out var liveUuid) || vdi.OtherConfig.ContainsKey(XoMetadata.CopyOf))
                {
                    continue;
                }

                // VDI-level metadata (XO 5.96+), else the VM-level metadata of older XO and xo-cr-seed.
                var meta = vdi.OtherConfig.ContainsKey(XoMetadata.Job) ? vdi.OtherConfig : vmLevel;
                if (meta.GetValueOrDefault(XoMetadata.Job) != job.JobId || meta.GetValueOrDefault(XoMetadata.Vm) != Vm.Uuid
                    || !meta.TryGetValue(XoMetadata.Datetime, out var datetime))
                {
                    continue;
                }

                var chain = int.TryParse(meta.GetValueOrDefault(XoMetadata.DeltaChainLength), out var n) ? n : 0;
                result.Add(new JobSnapshot(snapshot.Ref, vdi,
                    new SourceSnapshotDisk(vdi.Uuid, liveUuid, datetime, meta.GetValueOrDefault(XoMetadata.Exported) == "true", chain)));
            }
        }

        return result;
    }

    /// <summary>Clears job keys a previous run may have left on the live VM, so snapshots do not inherit them.</summary>
    public Task CleanLiveMetadataAsync() => pool.ResetAsync(Vm);

    /// <summary>The run's snapshot: temporary name, [NOBAK] disks left out, not a template, stamped on the VM
    /// and its disks (content key = each VDI's own uuid), then given its final name.</summary>
    public async Task<VmRecord> SnapshotAsync(DateTimeOffset timestamp)
    {
        var ignored = (await pool.DisksAsync(Vm).ConfigureAwait(false))
            .Where(d => d.Vdi.NameLabel.Contains(XoMetadata.NoBackupMarker, StringComparison.Ordinal)).ToList();
        var (snapshotRef, left) = await pool.SnapshotAsync(Vm.Ref, XoMetadata.TempSnapshotName,
            [.. ignored.Select(d => (object?)d.Vdi.Ref)]).ConfigureAwait(false);
        scope.CreatedVm(snapshotRef);
        if (!left)
        {
            await RemoveDisksAsync(snapshotRef, [.. ignored.Select(d => d.Vdi.Ref)]).ConfigureAwait(false);
        }

        await pool.SetIsATemplateAsync(snapshotRef, false).ConfigureAwait(false);
        var snapshot = await pool.VmAsync(snapshotRef).ConfigureAwait(false);
        var disks = await pool.StampAsync(snapshot, new Dictionary<string, string?>
        {
            [XoMetadata.Sr] = null,
            [XoMetadata.Datetime] = XoMetadata.FormatDateTime(timestamp),
            [XoMetadata.QcowFix] = "true",
            [XoMetadata.Job] = job.JobId,
            [XoMetadata.Schedule] = job.ScheduleId,
            [XoMetadata.Vm] = Vm.Uuid,
        }).ConfigureAwait(false);
        await pool.SetVmOtherConfigAsync(snapshotRef, ReplicaSettings.BootOrderKeys(Vm)).ConfigureAwait(false);
        foreach (var (_, vdi) in disks)
        {
            await pool.SetVdiOtherConfigAsync(vdi.Ref, new Dictionary<string, string?> { [XoMetadata.ContentKey] = vdi.Uuid })
                .ConfigureAwait(false);
        }

        await pool.SetVmNameLabelAsync(snapshotRef, XoMetadata.SnapshotName(job.JobName, Vm.NameLabel))
            .ConfigureAwait(false);
        Vm = await pool.VmAsync(Vm.Ref).ConfigureAwait(false);
        return await pool.VmAsync(snapshotRef).ConfigureAwait(false);
    }

    /// <summary>A pool without ignore_vdis snapshotted every disk: the snapshots of the disks left out go (Xen
    /// Orchestra's fallback for old XAPI deletes them from the snapshot afterwards, docs/xen-orchestra.md §8).</summary>
    private async Task RemoveDisksAsync(string snapshotRef, IReadOnlyCollection<string> liveVdis)
    {
        foreach (var (vbd, vdi) in await pool.DisksAsync(await pool.VmAsync(snapshotRef).ConfigureAwait(false)).ConfigureAwait(false))
        {
            if (liveVdis.Contains(vdi.SnapshotOf))
            {
                scope.CreatedVdi(vdi.Ref); // made by this run's VM.snapshot
                await pool.DestroyVbdAsync(vbd.Ref).ConfigureAwait(false);
                await scope.DestroyVdiAsync(vdi, DestroyReason.CreatedByThisRun, quiet: false).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Once some target received the snapshot (as Xen Orchestra: a target that failed is dropped from the run, the
    /// snapshot is marked after the others' transfers): it can be the next run's base. A target that lacks it then is
    /// found by the base selection's intersection, which sends the next run full (docs/xen-orchestra.md §6).</summary>
    public Task MarkExportedAsync(VmRecord snapshot, int deltaChainLength) => pool.StampAsync(snapshot, new Dictionary<string, string?>
    {
        [XoMetadata.DeltaChainLength] = deltaChainLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [XoMetadata.Exported] = "true",
    });

    /// <summary>Rotates this job's snapshots of the VM across all its schedules (<see cref="SnapshotRotation"/>): the next
    /// run's base — this run's snapshot (<paramref name="current"/>), or the newest exported one when no target received
    /// it — always stays; removes snapshots a crash left with the temporary name.</summary>
    public async Task RotateSnapshotsAsync(int retention, string? current)
    {
        Vm = await pool.VmAsync(Vm.Ref).ConfigureAwait(false);
        var jobSnapshots = new Dictionary<string, VmRecord>();
        foreach (var snapshotRef in Vm.Snapshots)
        {
            var snapshot = await pool.VmAsync(snapshotRef).ConfigureAwait(false);
            var oc = snapshot.OtherConfig;
            if (snapshot.NameLabel == XoMetadata.TempSnapshotName && snapshot.Ref != current)
            {
                await scope.DestroyVmAsync(snapshot, DestroyReason.LeftoverOfInterruptedRun).ConfigureAwait(false);
            }
            else if (oc.GetValueOrDefault(XoMetadata.Job) == job.JobId && oc.GetValueOrDefault(XoMetadata.Vm) == Vm.Uuid
                && oc.ContainsKey(XoMetadata.Datetime) && !oc.ContainsKey(XoMetadata.CopyOf))
            {
                jobSnapshots[snapshot.Ref] = snapshot; // any schedule of the job: the retention is kept in total (XO #8051)
            }
        }

        // Our schedules share the job's snapshotRetention (XO lets each schedule override it; we do not store that).
        var rotated = jobSnapshots.Values.Select(s => new RotatedSnapshot(s.Ref, s.OtherConfig.GetValueOrDefault(XoMetadata.Schedule),
            s.OtherConfig[XoMetadata.Datetime], s.OtherConfig.GetValueOrDefault(XoMetadata.Exported) == "true")).ToList();
        foreach (var old in SnapshotRotation.ToRemove(rotated, retention, current))
        {
            await scope.DestroyVmAsync(jobSnapshots[old.Ref], DestroyReason.Retention).ConfigureAwait(false);
        }
    }

    /// <summary>A snapshot no target completed is no base for anything: it goes at once.</summary>
    public async Task DiscardAsync(VmRecord snapshot)
        => await scope.DestroyVmAsync(await pool.VmAsync(snapshot.Ref).ConfigureAwait(false), DestroyReason.CreatedByThisRun)
            .ConfigureAwait(false);

    public Task<VdiExport> OpenExportAsync(VdiRecord snapshotVdi, VdiRecord? baseVdi, CancellationToken ct)
        => pool.Client.ExportVdiAsync(snapshotVdi.Ref, VdiFormat.Vhd, baseVdi?.Ref, ct: ct);
}
