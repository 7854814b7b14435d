using XcrCluster.Domain;
using XcrCluster.Domain.Recovery;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// Offline seed, on the source pool: a job snapshot of the VM made and stamped as a run makes its own
/// (<see cref="SourceVm.SnapshotAsync"/>: job, schedule, vm, datetime on the VM and its disks, each disk's content key), each
/// disk exported whole as a VHD file (export_raw_vdi format=vhd) into the directory, and a manifest. Once every file is
/// complete the snapshot is marked exported with a chain length of 0, as after a full run, so the job's first run after
/// the import takes it as its base. Interrupted, the snapshot and the complete files stay: the same command resumes, reusing
/// the manifest's snapshot (while it exists) and exporting only the disks whose file is not complete.
/// </summary>
public static class OfflineSeedExport
{
    public static async Task<RecoveryVmOutcome> RunAsync(Pool pool, SeedExport step, CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        var snapshotTaken = false;
        Func<Task>? unblock = null;
        try
        {
            var (side, previous) = await log.StepAsync("check the VM and the directory", () => CheckAsync(pool, step, ct))
                .ConfigureAwait(false);

            // As during a run: the snapshot's disks must stay where they are while they are read.
            unblock = await side.BlockMigrationAsync().ConfigureAwait(false);
            Directory.CreateDirectory(step.Dir);
            var (manifest, snapshot) = await ReuseAsync(pool, step, previous, log).ConfigureAwait(false);
            if (manifest is null)
            {
                (manifest, snapshot) = await log.StepAsync("snapshot", () => SnapshotAsync(pool, side, step, previous, ct))
                    .ConfigureAwait(false);
            }

            snapshotTaken = true;
            (manifest, var exported) = await ExportDisksAsync(pool, step.Dir, manifest, log, ct).ConfigureAwait(false);
            await log.StepAsync("mark the snapshot exported (the base of the job's first run after the import)",
                () => side.MarkExportedAsync(snapshot!, 0)).ConfigureAwait(false);
            return log.Succeeded(null, new Dictionary<string, string>
            {
                ["snapshot"] = manifest.Snapshot, ["snapshotTime"] = manifest.SnapshotDatetime, ["dir"] = step.Dir,
                ["disks"] = manifest.Disks.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["bytesExported"] = exported.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        catch (RunRefusedException e)
        {
            return log.Failed(new RecoveryRefusedException(e.Message));
        }
        catch (Exception e) when (snapshotTaken && e is not RecoveryRefusedException)
        {
            return log.Failed(new InvalidOperationException(
                $"{e.Message} (the snapshot and the complete files stay in {step.Dir}: the same command resumes the export)", e));
        }
        catch (Exception e)
        {
            return log.Failed(e);
        }
        finally
        {
            await RestoreMigrationAsync(unblock).ConfigureAwait(false);
        }
    }

    /// <summary>Every disk whose file is not complete, each on its own: one failing does not stop the others, so a resumed
    /// export fetches only the ones that failed. The manifest is rewritten as each completes; returns it and the bytes read.</summary>
    private static async Task<(SeedManifest, long)> ExportDisksAsync(Pool pool, string dir, SeedManifest manifest, RecoveryLog log,
        CancellationToken ct)
    {
        var exported = 0L;
        var failed = new List<string>();
        foreach (var disk in manifest.Disks)
        {
            if (disk.Complete && await SeedFiles.CheckAsync(dir, disk, ct).ConfigureAwait(false) is null)
            {
                log.Note($"disk {disk.Userdevice} ({disk.Name}): {disk.File} is complete, kept");
                continue;
            }

            try
            {
                var done = await log.StepAsync($"export disk {disk.Userdevice} ({disk.Name}) to {disk.File}",
                    () => SeedFiles.ExportAsync(pool, dir, disk, ct)).ConfigureAwait(false);
                exported += done.FileSize!.Value;
                manifest = manifest with { Disks = [.. manifest.Disks.Select(d => d.Userdevice == disk.Userdevice ? done : d)] };
                await manifest.WriteAsync(dir, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                failed.Add($"disk {disk.Userdevice}: {e.Message}");
            }
        }

        return failed.Count > 0 ? throw new IOException(string.Join("; ", failed)) : (manifest, exported);
    }

    /// <summary>Migration is allowed again whatever happened; if that fails, the job's next run restores it (it never keeps
    /// its own block as "what was there before").</summary>
    private static async Task RestoreMigrationAsync(Func<Task>? unblock)
    {
        try
        {
            if (unblock is not null)
            {
                await unblock().ConfigureAwait(false);
            }
        }
        catch (XapiException)
        {
            // the export's own outcome is what the operator reads
        }
    }

    /// <summary>Everything before the first change: the VM can be replicated by the job, the directory holds nothing or a seed
    /// of this VM and job (returned).</summary>
    private static async Task<(SourceVm Side, SeedManifest? Previous)> CheckAsync(Pool pool, SeedExport step, CancellationToken ct)
    {
        if (!Path.IsPathFullyQualified(step.Dir))
        {
            throw new RecoveryRefusedException($"the directory must be an absolute path on the node serving the pool, not {step.Dir}");
        }

        if (File.Exists(step.Dir))
        {
            throw new RecoveryRefusedException($"{step.Dir} is a file, not a directory");
        }

        VmRecord vm;
        try
        {
            vm = await pool.VmAsync(await pool.VmRefAsync(step.Vm).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (XapiException e) when (e.Code is "UUID_INVALID" or "HANDLE_INVALID")
        {
            throw new RecoveryRefusedException($"pool {pool.Name} has no VM {step.Vm}");
        }

        if (vm.IsASnapshot || vm.IsATemplate)
        {
            throw new RecoveryRefusedException($"{step.Vm} is a snapshot or template, not a VM");
        }

        var side = new SourceVm(pool, step.Job, vm);
        await side.CheckEligibleAsync().ConfigureAwait(false);
        SourceVm.CheckSupported(vm, (await pool.DisksAsync(vm).ConfigureAwait(false)).Select(d => d.Vdi));
        var previous = Directory.Exists(step.Dir) ? await SeedManifest.ReadAsync(step.Dir, ct).ConfigureAwait(false) : null;
        if (previous is not null && (previous.Vm != step.Vm || previous.Job != step.Job.JobId || previous.Schedule != step.Job.ScheduleId))
        {
            throw new RecoveryRefusedException($"{step.Dir} holds the seed of VM {previous.Vm} for job {previous.Job} (schedule "
                + $"{previous.Schedule}): give an empty directory");
        }

        if (previous is null && Directory.Exists(step.Dir) && Directory.EnumerateFileSystemEntries(step.Dir).Any())
        {
            throw new RecoveryRefusedException($"{step.Dir} is not empty and holds no seed manifest: give an empty directory");
        }

        return (side, previous);
    }

    /// <summary>The previous export's snapshot if it is still this job's snapshot of the VM; else nothing (a new one is made).</summary>
    private static async Task<(SeedManifest? Manifest, VmRecord? Snapshot)> ReuseAsync(Pool pool, SeedExport step, SeedManifest? previous,
        RecoveryLog log)
    {
        if (previous is null)
        {
            return (null, null);
        }

        try
        {
            var snapshot = await pool.VmAsync(await pool.VmRefAsync(previous.Snapshot).ConfigureAwait(false)).ConfigureAwait(false);
            var vm = await pool.VmRefAsync(step.Vm).ConfigureAwait(false);
            if (snapshot.IsASnapshot && snapshot.SnapshotOf == vm
                && snapshot.OtherConfig.GetValueOrDefault(XoMetadata.Job) == step.Job.JobId)
            {
                log.Note($"resume the export of snapshot {snapshot.Uuid} ({previous.SnapshotDatetime})");
                return (previous, snapshot);
            }
        }
        catch (XapiException e) when (e.Code is "UUID_INVALID" or "HANDLE_INVALID")
        {
        }

        log.Note($"snapshot {previous.Snapshot} of the previous export no longer exists: a new one is taken, every disk exported again");
        return (null, null);
    }

    private static async Task<(SeedManifest, VmRecord?)> SnapshotAsync(Pool pool, SourceVm side, SeedExport step, SeedManifest? previous,
        CancellationToken ct)
    {
        foreach (var stale in previous?.Disks ?? [])
        {
            File.Delete(Path.Combine(step.Dir, stale.File));
        }

        await side.CleanLiveMetadataAsync().ConfigureAwait(false);
        var snapshot = await side.SnapshotAsync(DateTimeOffset.UtcNow).ConfigureAwait(false);
        var record = await pool.VmFieldsAsync(snapshot.Ref).ConfigureAwait(false);
        var disks = (await pool.DisksAsync(snapshot).ConfigureAwait(false))
            .OrderBy(d => int.TryParse(d.Vbd.Userdevice, out var n) ? n : int.MaxValue)
            .Select(d => new ManifestDisk(d.Vbd.Userdevice, d.Vbd.Bootable, d.Vbd.Mode, d.Vbd.Unpluggable, d.Vdi.NameLabel,
                d.Vdi.NameDescription, d.Vdi.VirtualSize, d.Vdi.Type, d.Vdi.Sharable, d.Vdi.Tags, d.Vdi.Uuid,
                $"disk-{d.Vbd.Userdevice}.vhd"))
            .ToList();
        var networks = await pool.NetworksAsync().ConfigureAwait(false);
        var vifs = new List<ManifestVif>();
        foreach (var vifRef in snapshot.Vifs)
        {
            var vif = await pool.VifAsync(vifRef).ConfigureAwait(false);
            var network = networks.FirstOrDefault(n => n.Ref == vif.Network);
            vifs.Add(new ManifestVif(vif.Device, vif.Mac, vif.Mtu, vif.LockingMode, network?.Uuid, network?.Name, network?.Vlan));
        }

        var manifest = new SeedManifest(step.Vm, side.Vm.NameLabel, step.Job.JobId, step.Job.ScheduleId, snapshot.Uuid,
            snapshot.OtherConfig.GetValueOrDefault(XoMetadata.Datetime) ?? "", SeedManifest.Fields(record), vifs, disks);
        await manifest.WriteAsync(step.Dir, ct).ConfigureAwait(false);
        return (manifest, snapshot);
    }
}
