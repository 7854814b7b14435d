using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>The steps of <see cref="VmReplication"/>'s phases that talk to every target, and its cleanup.</summary>
public sealed partial class VmReplication
{
    /// <summary>An error as the log shows it: the message, with the kind when the message alone says too little.</summary>
    private static string Describe(Exception e) => e switch
    {
        XapiException or TimeoutException or TargetFailedException => e.Message,
        OperationCanceledException => $"cancelled by the pool: {e.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    /// <summary>Each target: what an interrupted run left is removed, then the bases it can continue from are found.</summary>
    private async Task OpenTargetsAsync(Run run, CancellationToken ct)
    {
        var vm = run.Side.Vm;
        foreach (var target in targets)
        {
            var targetSr = await target.OpenAsync(job, vm.Uuid, vm.NameLabel, ct).ConfigureAwait(false);
            run.Srs.Add(targetSr);
            var start = log.Now;
            if (await targetSr.RemoveLeftoversAsync(ct).ConfigureAwait(false) is > 0 and var leftovers)
            {
                log.Add("cleanup", "warning", start,
                    message: $"removed or repaired {leftovers} objects an interrupted run left on SR {targetSr.SrName}",
                    target: targetSr.SrUuid);
            }

            await targetSr.FindBasesAsync([.. run.JobSnapshots.Select(s => s.Disk.SnapshotVdiUuid)], ct).ConfigureAwait(false);
            if (targetSr.ReplicaNote is { } note)
            {
                log.Add("replica", "warning", start, message: note, target: targetSr.SrUuid);
            }
        }
    }

    /// <summary>Room before the transfer: old restore points go now; a delta keeps at least the newest (XO #7739).</summary>
    private async Task DeleteFirstAsync(Run run, CancellationToken ct)
    {
        if (!settings.DeleteFirst)
        {
            return;
        }

        var keep = Math.Max(settings.CopyRetention - 1, run.Bases.Any(b => b.BaseSnapshotVdiUuid is not null) ? 1 : 0);
        foreach (var target in run.Srs)
        {
            var start = log.Now;
            var pruned = await target.PruneAsync(keep, ct).ConfigureAwait(false);
            run.Pruned.AddRange(pruned.Select(uuid => new RemovedRestorePoint(target.SrUuid, uuid)));
            if (pruned.Count > 0)
            {
                log.Add("delete first", "success", start, message: $"removed {pruned.Count} old restore points before the transfer",
                    target: target.SrUuid);
            }
        }
    }

    /// <summary>Each new restore point started as a clone or copy on the health-check SR (the schedule's settings); a guest
    /// that does not answer within healthCheckTimeout is a failed task in the log (the restore point itself is complete
    /// and kept). A VM that opts out by tag, or that the schedule's tags leave out, is not checked (said in the log).</summary>
    private async Task HealthChecksAsync(Run run, CancellationToken ct)
    {
        if (settings.HealthCheckSr is not { } checkSr)
        {
            return;
        }

        if (HealthCheck.Skip(run.Side.Vm.Tags, settings) is var (status, reason))
        {
            log.Add("health check", status, log.Now, message: reason);
            return;
        }

        var timeout = settings.HealthCheckTimeout ?? ReplicationSettings.DefaultHealthCheckTimeout;

        foreach (var (target, outcome) in run.Srs.Zip(run.Outcomes).Where(p => p.Second is { Succeeded: true, RestorePointUuid: not null }))
        {
            var start = log.Now;
            try
            {
                log.Add("health check", "success", start,
                    message: await target.HealthCheckAsync(outcome.RestorePointUuid!, checkSr, timeout, ct)
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
    private async Task UndoAsync(Run run)
    {
        var (side, snapshot) = (run.SideIfChecked, run.Snapshot);
        foreach (var sr in run.Srs)
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

    private async Task<TargetResult> CommitAsync(Run run, ITargetSide target, TargetCommit commit, TransferResult result)
    {
        if (result.Error is null)
        {
            Report(run, RunPhase.Commit, target);
            try
            {
                var (vm, restorePoint) = await log.StepAsync("target snapshot", () => target.CommitAsync(commit), target.SrUuid)
                    .ConfigureAwait(false);
                return new TargetResult(target.SrUuid, true, null, vm, restorePoint, result.Bytes);
            }
            catch (Exception e)
            {
                result.Error = Describe(e);
            }
        }

        await QuietlyAsync("rollback", target.RollBackAsync, target.SrUuid).ConfigureAwait(false);
        return new TargetResult(target.SrUuid, false, result.Error, null, null, result.Bytes);
    }

    /// <summary>The snapshot's VIFs with their networks, read on the source for targets that cannot.</summary>
    private async Task<IReadOnlyList<SourceVif>> SourceVifsAsync(VmRecord snapshot)
    {
        var networks = await source.NetworksAsync().ConfigureAwait(false);
        var vifs = new List<SourceVif>();
        foreach (var vifRef in snapshot.Vifs)
        {
            var record = await source.RecordAsync<VifRecord>(vifRef).ConfigureAwait(false);
            vifs.Add(new SourceVif(record, networks.FirstOrDefault(n => n.Ref == record.Network)));
        }

        return vifs;
    }
}
