using System.Globalization;
using XcrCluster.Domain;
using XcrCluster.Domain.Recovery;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// Offline seed, on the target pool: the files of a seed directory checked against their manifest (size and SHA-256) and
/// the job, schedule and SR checked before anything is made; then the replica is made exactly as a full run of the job
/// makes one (spec §10 "(b) G2-style"), through the run's own target side (<see cref="TargetSr"/>): each disk a new VDI
/// marked as a copy of the source snapshot's disk (xo:copy_of and content key), the VHD file imported into it
/// (import_raw_vdi format=vhd), then <see cref="ReplicaCommit"/>: the halted VM with the snapshot's settings and VIFs, start
/// blocked, stamped and snapshotted into a restore point whose xo:copy_of is the source snapshot. The job's first run finds
/// that restore point as the base of the exported snapshot and continues the replica in place: a delta. Everything is made
/// under the run's marker, so a failure rolls it all back (and an interrupted import is removed by the job's next run).
/// </summary>
public static class OfflineSeedImport
{
    public static async Task<RecoveryVmOutcome> RunAsync(Pool pool, SeedImport step, CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        try
        {
            var manifest = await SeedManifest.ReadAsync(step.Dir, ct).ConfigureAwait(false)
                ?? throw new RecoveryRefusedException($"{step.Dir} holds no seed manifest ({SeedManifest.FileName}) on the node serving "
                    + $"pool {pool.Name}");
            log = new RecoveryLog(manifest.Vm);
            var size = await log.StepAsync($"verify {manifest.Disks.Count} files against the manifest (size, SHA-256)",
                () => VerifyAsync(step.Dir, manifest, ct)).ConfigureAwait(false);
            var sr = await log.StepAsync("check the job, schedule and SR", () => CheckAsync(pool, step, manifest, ct))
                .ConfigureAwait(false);
            var (vm, point) = await CreateAsync(pool, step, manifest, sr, size, log, ct).ConfigureAwait(false);
            return log.Succeeded(vm, new Dictionary<string, string>
            {
                ["restorePoint"] = point, ["sourceSnapshot"] = manifest.Snapshot, ["sr"] = step.SrUuid, ["name"] = manifest.VmName,
                ["bytesImported"] = size.ToString(CultureInfo.InvariantCulture),
            });
        }
        catch (Exception e)
        {
            return log.Failed(e);
        }
    }

    /// <summary>Every file whole and unaltered; their total size.</summary>
    private static async Task<long> VerifyAsync(string dir, SeedManifest manifest, CancellationToken ct)
    {
        foreach (var disk in manifest.Disks)
        {
            if (await SeedFiles.CheckAsync(dir, disk, ct).ConfigureAwait(false) is { } wrong)
            {
                throw new RecoveryRefusedException(wrong);
            }
        }

        return manifest.Disks.Sum(d => d.FileSize ?? 0);
    }

    private static async Task<SrRecord> CheckAsync(Pool pool, SeedImport step, SeedManifest manifest, CancellationToken ct)
    {
        if (manifest.Job != step.Job.JobId)
        {
            throw new RecoveryRefusedException($"the seed was exported for job {manifest.Job}, not {step.Job.JobId}");
        }

        if (manifest.Schedule != step.Job.ScheduleId)
        {
            throw new RecoveryRefusedException(
                $"the seed's snapshot is stamped for schedule {manifest.Schedule}, not {step.Job.ScheduleId}");
        }

        SrRecord sr;
        try
        {
            var srRef = await pool.SrRefAsync(step.SrUuid, ct).ConfigureAwait(false);
            sr = await pool.RecordAsync<SrRecord>(srRef, ct).ConfigureAwait(false);
        }
        catch (XapiException e) when (e.Code is "UUID_INVALID" or "HANDLE_INVALID")
        {
            throw new RecoveryRefusedException($"pool {pool.Name} has no SR {step.SrUuid}");
        }

        // A seed starts a chain: a replica of this VM and job already on the SR would be left beside a second one.
        var points = await RestorePointOnSr.ListAsync(pool, manifest.Vm, step.SrUuid, step.Job.JobId, ct).ConfigureAwait(false);
        if (points.Count > 0)
        {
            throw new RecoveryRefusedException($"SR {step.SrUuid} already holds {points.Count} restore points of VM {manifest.Vm} for job "
                + $"{step.Job.JobId}: a seed is for a VM this job never replicated there");
        }

        var copies = (await pool.AllAsync<VdiRecord>(ct).ConfigureAwait(false))
            .Where(v => v.Managed && manifest.Disks.Any(d => v.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf) == d.SnapshotVdi))
            .ToList();
        if (copies.Count > 0)
        {
            throw new RecoveryRefusedException(
                $"pool {pool.Name} already holds copies of the seed's disks ({copies[0].Uuid}): it was imported");
        }

        return sr;
    }

    /// <summary>The disks, then the replica and its restore point (the commit point); undone if anything fails.</summary>
    private static async Task<(string Vm, string RestorePoint)> CreateAsync(Pool pool, SeedImport step, SeedManifest manifest, SrRecord sr,
        long size, RecoveryLog log, CancellationToken ct)
    {
        var target = new TargetSr(pool, sr, step.Job, manifest.Vm, manifest.VmName);
        try
        {
            var disks = new List<TargetDisk>();
            foreach (var disk in manifest.Disks)
            {
                var source = disk.Source();
                var vdi = await log.StepAsync($"create disk {disk.Userdevice} ({disk.Name}) and import {disk.File}", async () =>
                {
                    var created = await target.PrepareDiskAsync(source, null).ConfigureAwait(false);
                    var path = Path.Combine(step.Dir, disk.File);
                    await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20,
                        FileOptions.Asynchronous);
                    await pool.Client.ImportVdiAsync(created, file, file.Length, VdiFormat.Vhd, ct: ct).ConfigureAwait(false);
                    return created;
                }).ConfigureAwait(false);
                disks.Add(new TargetDisk(disk.Vbd(), source, vdi));
            }

            var time = DateTimeOffset.TryParseExact(manifest.SnapshotDatetime, "yyyyMMdd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.UtcNow;
            var commit = new TargetCommit(manifest.SnapshotRecord(), manifest.CreateRecord(), disks,
                [.. manifest.Vifs.Select(v => v.Source())], time, size, step.CopyRetention) { NetworkMapping = step.NetworkMapping };
            return await log.StepAsync("create the halted, protected replica and its restore point",
                () => target.CommitAsync(commit)).ConfigureAwait(false);
        }
        catch
        {
            // Everything made above carries this job and VM's marker: it all goes, the SR is left as it was. What cannot go
            // now keeps the marker, and the job's next run removes it.
            try
            {
                await log.StepAsync("undo what the import made", target.RollBackAsync).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // its line says why; the import's own error is the one reported
            }

            throw;
        }
    }
}
