using System.Globalization;
using XcrCluster.Domain;
using XcrCluster.Domain.Recovery;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// The target half of `xcr seed`. First what xo-cr-seed writes (spec xo-cr-semantics.md §10): the VM named
/// <c>&lt;source VM name&gt; (&lt;snapshot_time&gt;)</c>, the job keys with <c>xo:backup:sr</c> and <c>xo:copy_of</c> = the
/// source snapshot, start and start_on blocked with the replication message, each disk's <c>xo:copy_of</c> = the snapshot's
/// disk at the same userdevice. Then what current Xen Orchestra (6.3+, one target VM updated in place) needs besides: a
/// snapshot of the seed VM as a run leaves one, a restore point whose disks carry <c>xo:copy_of</c> and
/// <c>xo:backup:contentKey</c> = the source snapshot's disks with the job, schedule, vm, sr and datetime keys; the job's
/// first run then finds its base there and updates the seed VM in place, as a delta. A failure destroys the restore point
/// made and puts the VM's name, start blocks and keys back.
/// </summary>
public static class SeedTarget
{
    public static async Task<RecoveryVmOutcome> WriteAsync(Pool pool, WriteSeedTarget step, CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        SeedPrior? prior = null;
        string? point = null;
        try
        {
            var (vm, disks) = await log.StepAsync($"check VM {step.Expected.Uuid} is as validated",
                () => SeedSide.RecheckAsync(pool, step.Expected, ct)).ConfigureAwait(false);
            var source = step.Source;
            var copyOf = source.Disks.ToDictionary(d => d.Userdevice, d => d.VdiUuid);
            var keys = new Dictionary<string, string?>
            {
                [XoMetadata.Datetime] = source.SnapshotTime, [XoMetadata.Job] = step.Seed.JobId, [XoMetadata.Vm] = step.Seed.SourceVmUuid,
                [XoMetadata.Schedule] = step.Seed.ScheduleId, [XoMetadata.Sr] = step.SrUuid, [XoMetadata.CopyOf] = source.Uuid,
            };
            prior = new SeedPrior(
                new Dictionary<string, Dictionary<string, string?>> { [vm.Uuid] = SeedSide.Prior(vm.OtherConfig, keys.Keys) },
                disks.ToDictionary(d => d.Vdi.Uuid, d => SeedSide.Prior(d.Vdi.OtherConfig, [XoMetadata.CopyOf])))
            {
                NameLabel = vm.NameLabel, WasATemplate = vm.IsATemplate,
                BlockedOperations = new Dictionary<string, string?>
                {
                    ["start"] = vm.BlockedOperations.GetValueOrDefault("start"),
                    ["start_on"] = vm.BlockedOperations.GetValueOrDefault("start_on"),
                },
            };
            var name = $"{source.SnapshotOfName} ({source.SnapshotTime})";
            await log.StepAsync($"link VM {vm.Uuid} to snapshot {source.Uuid} as xo-cr-seed does, named \"{name}\""
                + (vm.IsATemplate ? " (the imported template made a VM: a replica is one)" : ""), async () =>
            {
                if (vm.IsATemplate)
                {
                    await pool.SetIsATemplateAsync(vm.Ref, false).ConfigureAwait(false);
                }

                await pool.SetVmNameLabelAsync(vm.Ref, name).ConfigureAwait(false);
                await pool.SetVmOtherConfigAsync(vm.Ref, keys).ConfigureAwait(false);
                await pool.SetBlockedOperationsAsync(vm.Ref, new Dictionary<string, string?>
                {
                    ["start"] = XoMetadata.StartBlocked, ["start_on"] = XoMetadata.StartBlocked,
                }).ConfigureAwait(false);
                await pool.UpdateAllowedOperationsAsync(vm.Ref).ConfigureAwait(false);
                foreach (var (vbd, vdi) in disks)
                {
                    var of = new Dictionary<string, string?> { [XoMetadata.CopyOf] = copyOf[vbd.Userdevice] };
                    await pool.SetVdiOtherConfigAsync(vdi.Ref, of).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);

            // Named as a run names its restore point, at the time of the snapshot it holds.
            var pointName = XoMetadata.TargetSnapshotName(source.SnapshotOfName, step.Seed.JobName, step.Seed.ScheduleName,
                DateTimeOffset.ParseExact(source.SnapshotTime, "yyyyMMdd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal));
            await log.StepAsync($"take the seed's restore point \"{pointName}\"", async () =>
            {
                // Known from the call that made it, so a failure stamping it still destroys it.
                point = await pool.SnapshotAsync(vm.Ref, pointName, ct).ConfigureAwait(false);
                await StampPointAsync(pool, await pool.VmAsync(point).ConfigureAwait(false), keys, copyOf).ConfigureAwait(false);
            }).ConfigureAwait(false);
            var record = await pool.VmAsync(point!).ConfigureAwait(false);
            return log.Succeeded(vm.Uuid, new Dictionary<string, string>
            {
                ["name"] = name, ["restorePoint"] = record.Uuid, ["sr"] = step.SrUuid, ["snapshot"] = source.Uuid,
            });
        }
        catch (Exception e)
        {
            await UndoAsync(pool, point, prior, log).ConfigureAwait(false);
            return log.Failed(e);
        }
    }

    /// <summary>The restore point's VM and disks get the keys a run's restore point has (XAPI copies other_config to a
    /// snapshot, written again here so the restore point never depends on it): per disk the source disk at its userdevice.</summary>
    private static async Task StampPointAsync(Pool pool, VmRecord point, IReadOnlyDictionary<string, string?> keys,
        IReadOnlyDictionary<string, string> copyOf)
    {
        await pool.SetVmOtherConfigAsync(point.Ref, new Dictionary<string, string?>(keys) { [XoMetadata.QcowFix] = "true" })
            .ConfigureAwait(false);
        foreach (var (vbd, vdi) in await pool.DisksAsync(point).ConfigureAwait(false))
        {
            var of = copyOf[vbd.Userdevice];
            await pool.SetVdiOtherConfigAsync(vdi.Ref, new Dictionary<string, string?>(keys)
            {
                [XoMetadata.CopyOf] = of, [XoMetadata.ContentKey] = of, [XoMetadata.QcowFix] = "true",
            }).ConfigureAwait(false);
        }
    }

    private static async Task UndoAsync(Pool pool, string? point, SeedPrior? prior, RecoveryLog log)
    {
        if (point is not null)
        {
            try
            {
                // The restore point is this command's own: it goes with its disks.
                await log.StepAsync("destroy the seed's restore point", async () =>
                {
                    var record = await pool.VmAsync(point!).ConfigureAwait(false);
                    await pool.DestroyVmAsync(record).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Logged as a failed step.
            }
        }

        if (prior is not null)
        {
            await SeedSource.PutBackAsync(pool, prior, log).ConfigureAwait(false);
        }
    }
}
