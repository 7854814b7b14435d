using XcrCluster.Domain;
using XcrCluster.Domain.Recovery;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// The source half of `xcr seed`: the snapshot becomes the job's exported snapshot, the base of the first run. On its VM,
/// what xo-cr-seed writes (<c>xo:backup:datetime</c> = its snapshot_time, job, schedule, vm = the VM it is a snapshot of,
/// <c>exported</c>); on each of its disks the same keys too, since Xen Orchestra 6.1+ (and our engine, for its base) read the
/// VDI-level keys, with <c>deltaChainLength</c> 0 and <c>contentKey</c> = the disk's own uuid, as a run's snapshot has them
/// (spec xo-cr-semantics.md §10, §1). A failure puts back what was there.
/// </summary>
public static class SeedSource
{
    public static async Task<RecoveryVmOutcome> WriteAsync(Pool pool, WriteSeedSource step, CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        SeedPrior? prior = null;
        try
        {
            var (snapshot, disks) = await log.StepAsync($"check snapshot {step.Expected.Uuid} is as validated",
                () => SeedSide.RecheckAsync(pool, step.Expected, ct)).ConfigureAwait(false);
            var keys = new Dictionary<string, string?>
            {
                [XoMetadata.Datetime] = step.Expected.SnapshotTime, [XoMetadata.Job] = step.Seed.JobId,
                [XoMetadata.Schedule] = step.Seed.ScheduleId, [XoMetadata.Vm] = step.Seed.SourceVmUuid, [XoMetadata.Exported] = "true",
                [XoMetadata.DeltaChainLength] = "0", [XoMetadata.QcowFix] = "true",
            };
            var diskKeys = keys.Keys.Append(XoMetadata.ContentKey).ToList();
            prior = new SeedPrior(
                new Dictionary<string, Dictionary<string, string?>> { [snapshot.Uuid] = SeedSide.Prior(snapshot.OtherConfig, keys.Keys) },
                disks.ToDictionary(d => d.Vdi.Uuid, d => SeedSide.Prior(d.Vdi.OtherConfig, diskKeys)));
            await log.StepAsync($"mark snapshot {snapshot.Uuid} and its {disks.Count} disks as job {step.Seed.JobId}'s exported "
                + $"snapshot of VM {step.Seed.SourceVmUuid} ({step.Expected.SnapshotTime})", async () =>
            {
                await pool.SetVmOtherConfigAsync(snapshot.Ref, keys).ConfigureAwait(false);
                foreach (var (_, vdi) in disks)
                {
                    var own = new Dictionary<string, string?>(keys) { [XoMetadata.ContentKey] = vdi.Uuid };
                    await pool.SetVdiOtherConfigAsync(vdi.Ref, own).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
            return log.Succeeded(null, new Dictionary<string, string> { [SeedPrior.DetailsKey] = prior.ToJson() });
        }
        catch (Exception e)
        {
            if (prior is not null)
            {
                await PutBackAsync(pool, prior, log).ConfigureAwait(false);
            }

            return log.Failed(e);
        }
    }

    /// <summary>Undo after a failure; its own failure is logged, never hiding the first.</summary>
    internal static async Task PutBackAsync(Pool pool, SeedPrior prior, RecoveryLog log)
    {
        try
        {
            await log.StepAsync("put back the metadata as it was", () => SeedSide.RestoreAsync(pool, prior)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Logged as a failed step above.
        }
    }
}
