using Akka.Streams;
using XcrCluster.Domain;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// One run of one VM to one or more target SRs, in Xen Orchestra's order (xo-cr-semantics.md §2.3): checks,
/// job snapshots, base selection across every target, the snapshot, one export per disk fanned out to all
/// targets, commit per target, then the source snapshot marked exported (only if every target succeeded)
/// and old job snapshots rotated. Reports a task log; never throws for a VM-level failure.
/// </summary>
public sealed class VmReplication(Pool source, IReadOnlyList<ITargetSpec> targets, JobRef job, ReplicationSettings settings, IMaterializer materializer, TimeProvider? time = null)
{
    private readonly TimeProvider clock = time ?? TimeProvider.System;
    private readonly List<TaskEntry> log = [];
    private readonly Throttle? throttle = Throttle.For(settings.MaxExportRate, time);

    /// <summary>Where the run says what it is doing (phases, and per disk and target the bytes so far, at most 4
    /// times a second each); reporting must be quick and never throw. Nothing when null.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    public async Task<RunReport> RunAsync(string vmUuid, CancellationToken ct = default)
    {
        string? snapshotUuid = null;
        IReadOnlyList<DiskBase> bases = [];
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

            foreach (var target in targets)
            {
                var targetSr = await target.OpenAsync(job, vm.Uuid, vm.NameLabel, ct).ConfigureAwait(false);
                srs.Add(targetSr);
                var start = clock.GetUtcNow();
                if (await targetSr.RemoveLeftoversAsync(ct).ConfigureAwait(false) is > 0 and var leftovers)
                {
                    Log("cleanup", "warning", start, message: $"removed {leftovers} objects an interrupted run left on SR {targetSr.SrName}", target: targetSr.SrUuid);
                }

                await targetSr.FindBasesAsync([.. jobSnapshots.Select(s => s.Disk.SnapshotVdiUuid)], ct).ConfigureAwait(false);
            }

            bases = BaseSelection.Select(live.Select(d => d.Vdi.Uuid).ToList(), jobSnapshots.Select(s => s.Disk).ToList(),
                srs.Select(t => (Func<string, bool>)t.HasBase).ToList(), settings.FullInterval, out var chainLength);

            if (settings.DeleteFirst)
            {
                // Room before the transfer: old restore points go now; a delta keeps at least the newest (XO #7739).
                var keep = Math.Max(settings.CopyRetention - 1, bases.Any(b => b.BaseSnapshotVdiUuid is not null) ? 1 : 0);
                foreach (var target in srs)
                {
                    var start = clock.GetUtcNow();
                    if (await target.PruneAsync(keep, ct).ConfigureAwait(false) is > 0 and var pruned)
                    {
                        Log("delete first", "success", start, message: $"removed {pruned} old restore points before the transfer", target: target.SrUuid);
                    }
                }
            }

            await side.CleanLiveMetadataAsync().ConfigureAwait(false);
            Progress?.Report(new TransferProgress(RunPhase.Snapshot));
            snapshot = await Step("snapshot", () => side.SnapshotAsync(clock.GetUtcNow())).ConfigureAwait(false);
            snapshotUuid = snapshot.Uuid;
            var transferStart = clock.GetUtcNow();
            var results = await TransferAsync(side, snapshot, srs, bases, jobSnapshots, live, ct).ConfigureAwait(false);
            var record = (Dictionary<string, object?>)(await source.Client.CallAsync("VM.get_record", snapshot.Ref).ConfigureAwait(false))!;
            var vifs = await SourceVifsAsync(snapshot).ConfigureAwait(false);
            foreach (var (target, result) in srs.Zip(results))
            {
                outcomes.Add(await CommitAsync(target, new TargetCommit(snapshot, record, result.Disks, vifs, transferStart, result.Bytes, settings.CopyRetention) { NetworkMapping = settings.NetworkMapping }, result, bases)
                    .ConfigureAwait(false));
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
                failed.Count == 0 ? null : string.Join("; ", failed.Select(f => $"SR {f.SrUuid}: {f.Error}")), snapshotUuid, bases, outcomes, log);
        }
        catch (RunRefusedException e)
        {
            Log("VM", e.Skipped ? "skipped" : "failure", clock.GetUtcNow(), message: e.Message);
            return new RunReport(e.Skipped ? RunStatus.Skipped : RunStatus.Failed, e.Message, snapshotUuid, bases, outcomes, log);
        }
        catch (Exception e) when (IsTargetFailure(e) || (e is OperationCanceledException && ct.IsCancellationRequested))
        {
            var error = e is OperationCanceledException ? "cancelled (timeout, node stopping or job deleted): what this run made was removed" : e.Message;
            Log("VM", "failure", clock.GetUtcNow(), message: error);
            await UndoAsync(srs, side, snapshot).ConfigureAwait(false);
            return new RunReport(RunStatus.Failed, error, snapshotUuid, bases, outcomes, log);
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

    /// <summary>How long a health check waits for the copy's guest (XO's healthCheckTimeout default).</summary>
    public static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Each new restore point started as a copy on the health-check SR; a guest that does not answer is a
    /// failed task in the log (the restore point itself is complete and kept).</summary>
    private async Task HealthChecksAsync(IReadOnlyList<ITargetSide> srs, IEnumerable<TargetOutcome> outcomes, string checkSr, CancellationToken ct)
    {
        foreach (var (target, outcome) in srs.Zip(outcomes).Where(p => p.Second is { Succeeded: true, RestorePointUuid: not null }))
        {
            var start = clock.GetUtcNow();
            try
            {
                Log("health check", "success", start, message: await target.HealthCheckAsync(outcome.RestorePointUuid!, checkSr, HealthCheckTimeout, ct).ConfigureAwait(false), target: target.SrUuid);
            }
            catch (Exception e) when (e is TimeoutException || IsTargetFailure(e))
            {
                Log("health check", "failure", start, message: e.Message, target: target.SrUuid);
            }
        }
    }

    /// <summary>A run that stopped half-way (an export error, cancellation) removes what it made at once: the
    /// targets' new disks and VM, and its source snapshot, which no target completed. Never throws.</summary>
    private async Task UndoAsync(IReadOnlyList<ITargetSide> srs, SourceVm? side, VmRecord? snapshot)
    {
        var start = clock.GetUtcNow();
        try
        {
            foreach (var sr in srs)
            {
                await sr.RollBackAsync().ConfigureAwait(false);
            }

            if (side is not null && snapshot is not null)
            {
                await side.DiscardAsync(snapshot).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsTargetFailure(e))
        {
            Log("cleanup", "warning", start, message: $"left for the next run to remove: {e.Message}");
        }
    }

    /// <summary>Migration is allowed again whatever happened; a failure to do so is a warning, never the run's error.</summary>
    private async Task RestoreMigrationAsync(Func<Task>? unblock)
    {
        var start = clock.GetUtcNow();
        try
        {
            if (unblock is not null)
            {
                await unblock().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is XapiException or HttpRequestException or IOException or TimeoutException)
        {
            Log("restore migration", "warning", start, message: $"migration may still be blocked on the source VM: {e.Message}");
        }
    }

    /// <summary>What one target got from the transfer: its disks (source snapshot VBD, source VDI, target VDI),
    /// bytes sent and the first error.</summary>
    private sealed class TransferResult
    {
        public List<TargetDisk> Disks { get; } = [];

        public long Bytes { get; set; }

        public string? Error { get; set; }
    }

    private async Task<IReadOnlyList<TransferResult>> TransferAsync(SourceVm side, VmRecord snapshot, IReadOnlyList<ITargetSide> srs, IReadOnlyList<DiskBase> bases,
        IReadOnlyList<SourceVm.JobSnapshot> jobSnapshots, IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)> live, CancellationToken ct)
    {
        var results = srs.Select(_ => new TransferResult()).ToList();
        foreach (var (vbd, vdi) in await source.DisksAsync(snapshot).ConfigureAwait(false))
        {
            var liveUuid = live.FirstOrDefault(l => l.Vdi.Ref == vdi.SnapshotOf).Vdi?.Uuid;
            var diskBase = bases.FirstOrDefault(b => b.LiveVdiUuid == liveUuid);
            var baseUuid = diskBase?.BaseSnapshotVdiUuid;
            var baseVdi = jobSnapshots.FirstOrDefault(s => s.Disk.SnapshotVdiUuid == baseUuid)?.Vdi;
            var start = clock.GetUtcNow();
            var lanes = new List<(int Index, string Target)>();
            for (var i = 0; i < srs.Count; i++)
            {
                if (results[i].Error is null)
                {
                    try
                    {
                        var target = await srs[i].PrepareDiskAsync(vdi, baseUuid).ConfigureAwait(false);
                        results[i].Disks.Add(new TargetDisk(vbd, vdi, target));
                        lanes.Add((i, target));
                    }
                    catch (Exception e) when (IsTargetFailure(e))
                    {
                        results[i].Error = e.Message;
                    }
                }
            }

            if (lanes.Count == 0)
            {
                break;
            }

            // One transfer slot on the source pool for the export and one per target on its pool, for the whole disk.
            await using var slots = await PoolSlotLeases.AcquireAsync([(source.Name, source.Gate), .. lanes.Select(l => (targets[l.Index].PoolName, targets[l.Index].Gate))],
                SlotKind.Transfer, ct).ConfigureAwait(false);
            await using var export = await side.OpenExportAsync(vdi, baseVdi, ct).ConfigureAwait(false);
            var sent = new long[lanes.Count];
            var imports = lanes.Select((l, k) => srs[l.Index].ImportTo(l.Target, length =>
            {
                sent[k] = length;
                results[l.Index].Bytes += length;
            }, ct)).ToList();
            var progress = Progress is { } sink ? new DiskProgress(sink, liveUuid ?? vdi.Uuid, vdi.NameLabel, [.. lanes.Select(l => srs[l.Index].SrUuid)], clock) : null;
            var errors = await BlockFanOut.CopyAsync(export.Content, imports, materializer, ct, throttle, progress).ConfigureAwait(false);
            await export.CompleteAsync(ct).ConfigureAwait(false);
            for (var k = 0; k < lanes.Count; k++)
            {
                var (index, _) = lanes[k];
                results[index].Error ??= errors[k]?.Message;
                Log($"transfer {vdi.NameLabel}", errors[k] is null ? "success" : "failure", start, errors[k] is null ? sent[k] : null,
                    errors[k]?.Message ?? diskBase?.Describe() ?? "full: new disk", srs[index].SrUuid);
            }
        }

        return results;
    }

    private async Task<TargetOutcome> CommitAsync(ITargetSide target, TargetCommit commit, TransferResult result, IReadOnlyList<DiskBase> bases)
    {
        var full = bases.Any(b => b.BaseSnapshotVdiUuid is null);
        if (result.Error is null)
        {
            Progress?.Report(new TransferProgress(RunPhase.Commit, Sr: target.SrUuid));
            try
            {
                var (vm, restorePoint) = await Step("target snapshot", () => target.CommitAsync(commit), target.SrUuid).ConfigureAwait(false);
                return new TargetOutcome(target.SrUuid, true, null, vm, restorePoint, result.Bytes, full);
            }
            catch (Exception e) when (IsTargetFailure(e))
            {
                result.Error = e.Message;
            }
        }

        var start = clock.GetUtcNow();
        try
        {
            await target.RollBackAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (IsTargetFailure(e))
        {
            Log("rollback", "warning", start, message: $"left for the next run to remove: {e.Message}", target: target.SrUuid);
        }

        return new TargetOutcome(target.SrUuid, false, result.Error, null, null, result.Bytes, full);
    }

    /// <summary>A target failing (its pool, its node, the channel to it) fails that target only; the same errors
    /// on the source fail the run (never the process).</summary>
    private static bool IsTargetFailure(Exception e) => e is XapiException or HttpRequestException or IOException or TimeoutException or TargetFailedException;

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

    private async Task<T> Step<T>(string name, Func<Task<T>> action, string? target = null)
    {
        var start = clock.GetUtcNow();
        try
        {
            var result = await action().ConfigureAwait(false);
            Log(name, "success", start, target: target);
            return result;
        }
        catch (Exception e)
        {
            Log(name, "failure", start, message: e.Message, target: target);
            throw;
        }
    }

    private void Log(string name, string status, DateTimeOffset start, long? size = null, string? message = null, string? target = null)
    {
        lock (log)
        {
            log.Add(new TaskEntry(name, status, start, clock.GetUtcNow(), size, message, target));
        }
    }
}
