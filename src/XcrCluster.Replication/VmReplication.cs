using Akka.Streams;
using XcrCluster.Domain;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// One run of one VM to one or more target SRs, in Xen Orchestra's order (docs/xen-orchestra.md §4): checks,
/// job snapshots, base selection across every target, the snapshot, one export per disk fanned out to all
/// targets, commit per target, then the source snapshot marked exported (only if every target succeeded)
/// and old job snapshots rotated. Reports a task log; never throws for a VM-level failure.
/// </summary>
public sealed class VmReplication(Pool source, IReadOnlyList<ITargetSpec> targets, JobRef job, ReplicationSettings settings,
    IMaterializer materializer, TimeProvider? time = null)
{
    private readonly RunLog log = new(time ?? TimeProvider.System);
    private readonly Throttle? throttle = Throttle.For(settings.MaxExportRate, time);

    /// <summary>Where the run says what it is doing (phases, and per disk and target the bytes so far, at most 4
    /// times a second each); reporting must be quick and never throw. Nothing when null.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>Runs the VM once. Never throws for a failure of the run, whatever ended it (a pool error, a transfer
    /// cut short, a reply that does not parse, cancellation): what the run made is undone and the report says why.</summary>
    public async Task<RunReport> RunAsync(string vmUuid, CancellationToken ct = default)
    {
        string? snapshotUuid = null;
        var bases = new List<DiskBase>();
        var outcomes = new List<TargetOutcome>();
        Func<Task>? unblockMigration = null;
        var srs = new List<ITargetSide>();
        SourceVm? side = null;
        VmRecord? snapshot = null;
        try
        {
            var vm = await source.VmAsync(await source.VmRefAsync(vmUuid).ConfigureAwait(false)).ConfigureAwait(false);
            side = new SourceVm(source, job, vm);
            side.CheckEligible();
            var live = await source.DisksAsync(vm).ConfigureAwait(false);
            SourceVm.CheckSupported(vm, live.Select(d => d.Vdi));
            var sourceVdis = await source.Client.GetAllRecordsAsync<VdiRecord>(ct).ConfigureAwait(false);
            await side.CheckChainsAsync(settings.MaxUncoalescedVdis, sourceVdis).ConfigureAwait(false);
            unblockMigration = await side.BlockMigrationAsync().ConfigureAwait(false);
            var jobSnapshots = await side.JobSnapshotsAsync(sourceVdis).ConfigureAwait(false);
            await OpenTargetsAsync(vm, srs, jobSnapshots, ct).ConfigureAwait(false);
            bases = [.. BaseSelection.Select(live.Select(d => d.Vdi.Uuid).ToList(), jobSnapshots.Select(s => s.Disk).ToList(),
                srs.Select(t => (Func<string, bool>)t.HasBase).ToList(), settings.FullInterval, out var chainLength)];
            if (settings.DeleteFirst)
            {
                await DeleteFirstAsync(srs, bases, ct).ConfigureAwait(false);
            }

            await side.CleanLiveMetadataAsync().ConfigureAwait(false);
            Progress?.Report(new TransferProgress(RunPhase.Snapshot));
            snapshot = await log.StepAsync("snapshot", () => side.SnapshotAsync(log.Now)).ConfigureAwait(false);
            snapshotUuid = snapshot.Uuid;
            var transferStart = log.Now;
            var results = await new RunTransfer(source, targets, srs, materializer, throttle, log, Progress)
                .RunAsync(side, snapshot, bases, jobSnapshots, live, ct).ConfigureAwait(false);
            var record = await source.VmFieldsAsync(snapshot.Ref).ConfigureAwait(false);
            var vifs = await SourceVifsAsync(snapshot).ConfigureAwait(false);
            foreach (var (target, result) in srs.Zip(results))
            {
                var commit = new TargetCommit(snapshot, record, result.Disks, vifs, transferStart, result.Bytes,
                    settings.CopyRetention) { NetworkMapping = settings.NetworkMapping };
                outcomes.Add(await CommitAsync(target, commit, result, bases).ConfigureAwait(false));
            }

            if (settings.HealthCheckSr is { } checkSr)
            {
                await HealthChecksAsync(srs, outcomes, checkSr, ct).ConfigureAwait(false);
            }

            var succeeded = outcomes.All(o => o.Succeeded);
            if (succeeded)
            {
                await side.MarkExportedAsync(snapshot, BaseSelection.NextDeltaChainLength(bases, chainLength)).ConfigureAwait(false);
            }
            else
            {
                await side.DiscardAsync(snapshot).ConfigureAwait(false);
            }

            var settled = snapshot;
            snapshot = null; // settled: nothing left for a cleanup to undo
            await side.RotateSnapshotsAsync(settings.SnapshotRetention, succeeded ? settled.Ref : null).ConfigureAwait(false);
            var failed = outcomes.Where(o => !o.Succeeded).ToList();
            return new RunReport(failed.Count == 0 ? RunStatus.Success : RunStatus.Failed,
                failed.Count == 0 ? null : string.Join("; ", failed.Select(f => $"SR {f.SrUuid}: {f.Error}")), snapshotUuid, bases,
                    outcomes, log.Entries);
        }
        catch (RunRefusedException e)
        {
            log.Add("VM", e.Skipped ? "skipped" : "failure", log.Now, message: e.Message);
            return new RunReport(e.Skipped ? RunStatus.Skipped : RunStatus.Failed, e.Message, snapshotUuid, bases, outcomes, log.Entries);
        }
        catch (Exception e)
        {
            // No exception type decides whether cleanup runs: whatever ended the run, what it made is undone.
            var error = e is OperationCanceledException && ct.IsCancellationRequested
                ? "cancelled (timeout, node stopping or job deleted): what this run made was removed"
                : Describe(e);
            log.Add("VM", "failure", log.Now, message: error);
            await UndoAsync(srs, side, snapshot).ConfigureAwait(false);
            return new RunReport(RunStatus.Failed, error, snapshotUuid, bases, outcomes, log.Entries);
        }
        finally
        {
            await RestoreMigrationAsync(unblockMigration).ConfigureAwait(false);
            foreach (var target in srs.OfType<IAsyncDisposable>())
            {
                await target.DisposeAsync().ConfigureAwait(false); // a remote target's session on its agent
            }

            Progress?.Report(new TransferProgress(RunPhase.Done));
        }
    }

    /// <summary>An error as the log shows it: the message, with the kind when the message alone says too little.</summary>
    private static string Describe(Exception e) => e switch
    {
        XapiException or TimeoutException or TargetFailedException => e.Message,
        OperationCanceledException => $"cancelled by the pool: {e.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    /// <summary>Each target: what an interrupted run left is removed, then the bases it can continue from are found.</summary>
    private async Task OpenTargetsAsync(VmRecord vm, List<ITargetSide> srs, IReadOnlyList<SourceVm.JobSnapshot> jobSnapshots,
        CancellationToken ct)
    {
        foreach (var target in targets)
        {
            var targetSr = await target.OpenAsync(job, vm.Uuid, vm.NameLabel, ct).ConfigureAwait(false);
            srs.Add(targetSr);
            var start = log.Now;
            if (await targetSr.RemoveLeftoversAsync(ct).ConfigureAwait(false) is > 0 and var leftovers)
            {
                log.Add("cleanup", "warning", start,
                    message: $"removed or repaired {leftovers} objects an interrupted run left on SR {targetSr.SrName}",
                    target: targetSr.SrUuid);
            }

            await targetSr.FindBasesAsync([.. jobSnapshots.Select(s => s.Disk.SnapshotVdiUuid)], ct).ConfigureAwait(false);
            if (targetSr.ReplicaNote is { } note)
            {
                log.Add("replica", "warning", start, message: note, target: targetSr.SrUuid);
            }
        }
    }

    /// <summary>Room before the transfer: old restore points go now; a delta keeps at least the newest (XO #7739).</summary>
    private async Task DeleteFirstAsync(IReadOnlyList<ITargetSide> srs, IReadOnlyList<DiskBase> bases, CancellationToken ct)
    {
        var keep = Math.Max(settings.CopyRetention - 1, bases.Any(b => b.BaseSnapshotVdiUuid is not null) ? 1 : 0);
        foreach (var target in srs)
        {
            var start = log.Now;
            if (await target.PruneAsync(keep, ct).ConfigureAwait(false) is > 0 and var pruned)
            {
                log.Add("delete first", "success", start, message: $"removed {pruned} old restore points before the transfer",
                    target: target.SrUuid);
            }
        }
    }

    /// <summary>How long a health check waits for the copy's guest (XO's healthCheckTimeout default).</summary>
    public static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Each new restore point started as a copy on the health-check SR; a guest that does not answer is a
    /// failed task in the log (the restore point itself is complete and kept).</summary>
    private async Task HealthChecksAsync(IReadOnlyList<ITargetSide> srs, IEnumerable<TargetOutcome> outcomes, string checkSr,
        CancellationToken ct)
    {
        foreach (var (target, outcome) in srs.Zip(outcomes).Where(p => p.Second is { Succeeded: true, RestorePointUuid: not null }))
        {
            var start = log.Now;
            try
            {
                log.Add("health check", "success", start,
                    message: await target.HealthCheckAsync(outcome.RestorePointUuid!, checkSr, HealthCheckTimeout, ct)
                    .ConfigureAwait(false),
                    target: target.SrUuid);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                log.Add("health check", "failure", start, message: Describe(e), target: target.SrUuid);
            }
        }
    }

    /// <summary>A run that stopped half-way (an export error, cancellation) removes what it made at once: the
    /// targets' new disks and VM, and its source snapshot, which no target completed. Never throws: what a step
    /// cannot remove now carries its marker, and the next run removes it.</summary>
    private async Task UndoAsync(IReadOnlyList<ITargetSide> srs, SourceVm? side, VmRecord? snapshot)
    {
        foreach (var sr in srs)
        {
            await QuietlyAsync("cleanup", sr.RollBackAsync, sr.SrUuid).ConfigureAwait(false);
        }

        if (side is not null && snapshot is not null)
        {
            await QuietlyAsync("cleanup", () => side.DiscardAsync(snapshot), null).ConfigureAwait(false);
        }
    }

    private async Task QuietlyAsync(string step, Func<Task> action, string? target)
    {
        var start = log.Now;
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            log.Add(step, "warning", start, message: $"left for the next run to remove: {Describe(e)}", target: target);
        }
    }

    /// <summary>Migration is allowed again whatever happened; a failure to do so is a warning, never the run's error.</summary>
    private async Task RestoreMigrationAsync(Func<Task>? unblock)
    {
        if (unblock is not null)
        {
            await QuietlyAsync("restore migration", unblock, null).ConfigureAwait(false);
        }
    }

    private async Task<TargetOutcome> CommitAsync(ITargetSide target, TargetCommit commit, TransferResult result,
        IReadOnlyList<DiskBase> bases)
    {
        var full = bases.Any(b => b.BaseSnapshotVdiUuid is null);
        if (result.Error is null)
        {
            Progress?.Report(new TransferProgress(RunPhase.Commit, Sr: target.SrUuid));
            try
            {
                var (vm, restorePoint) = await log.StepAsync("target snapshot", () => target.CommitAsync(commit), target.SrUuid)
                    .ConfigureAwait(false);
                return new TargetOutcome(target.SrUuid, true, null, vm, restorePoint, result.Bytes, full);
            }
            catch (Exception e)
            {
                result.Error = Describe(e);
            }
        }

        await QuietlyAsync("rollback", target.RollBackAsync, target.SrUuid).ConfigureAwait(false);
        return new TargetOutcome(target.SrUuid, false, result.Error, null, null, result.Bytes, full);
    }

    /// <summary>The snapshot's VIFs with their networks, read on the source for targets that cannot.</summary>
    private async Task<IReadOnlyList<SourceVif>> SourceVifsAsync(VmRecord snapshot)
    {
        var networks = await source.NetworksAsync().ConfigureAwait(false);
        var vifs = new List<SourceVif>();
        foreach (var vifRef in snapshot.Vifs)
        {
            var record = await source.Client.GetRecordAsync<VifRecord>(vifRef).ConfigureAwait(false);
            vifs.Add(new SourceVif(record, networks.FirstOrDefault(n => n.Ref == record.Network)));
        }

        return vifs;
    }
}
