using XcrCluster.Domain;
using XcrCluster.Domain.Recovery;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// Failover of one VM on its replica's pool, as Xen Orchestra's "Start a copy" and "Force start" (docs/xen-orchestra.md,
/// failover): a copy is a fast clone of a restore point named <c>&lt;replica name&gt;_clone</c>, with the replication's
/// metadata and start blocks removed on the clone only, so the replica and its chain stay as they are and the next run is
/// a delta; a force start removes the start blocks of the live replica itself and starts it: it leaves the chain, and the
/// next run builds a new protected replica from the newest restore point (the data-safety rules of the engine). Every
/// check comes before the first change; a copy that cannot be started is destroyed, so a failure leaves the pool as it was.
/// </summary>
public static class Failover
{
    /// <summary>On the failed-over VM: the source VM it stands in for and the restore point it started from.</summary>
    public const string FailoverOfKey = "xcr:failover-of";
    public const string FailoverPointKey = "xcr:failover-restore-point";

    public static async Task<RecoveryVmOutcome> StartAsync(Pool pool, StartReplica step, CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        try
        {
            var point = await log.StepAsync("check restore points", () => ChooseAsync(pool, step, ct)).ConfigureAwait(false);
            var details = new Dictionary<string, string>
            {
                ["restorePoint"] = point.Point.Uuid, ["restorePointTime"] = point.Datetime, ["sr"] = step.SrUuid,
                ["order"] = Invariant(point.Replica?.Order ?? 0), ["startDelay"] = Invariant(point.Replica?.StartDelay ?? 0),
            };
            var moves = step.Networks is { Count: > 0 }
                ? await log.StepAsync("check networks", () => FailoverNetworks.PlanAsync(pool, step.Force ? point.Replica! : point.Point,
                    step.Networks)).ConfigureAwait(false)
                : [];
            if (step.DryRun)
            {
                log.Note(step.Force ? $"would start replica {point.Replica!.Uuid} ({point.Replica.NameLabel})"
                    : $"would start a copy of restore point {point.Point.Uuid} ({point.Datetime})");
                details["name"] = step.Force ? point.Replica!.NameLabel : CloneName(point);
                foreach (var move in moves)
                {
                    log.Note($"would move {move}");
                }

                return log.Succeeded(step.Force ? point.Replica!.Uuid : null, details);
            }

            var started = step.Force ? await ForceAsync(pool, point, step, log).ConfigureAwait(false)
                : await CopyAsync(pool, point, step, log).ConfigureAwait(false);
            details["name"] = started.NameLabel;
            return log.Succeeded(started.Uuid, details);
        }
        catch (Exception e)
        {
            return log.Failed(e);
        }
    }

    private static async Task<RestorePointOnSr> ChooseAsync(Pool pool, StartReplica step, CancellationToken ct)
    {
        var points = await RestorePointOnSr.ListAsync(pool, step.Vm, step.SrUuid, step.JobId, ct).ConfigureAwait(false);
        if (step.Newest is { } newest && points.FirstOrDefault(p => p.Point.Uuid == newest) is { } hint
            && hint.Datetime == points[0].Datetime)
        {
            points = [hint, .. points.Where(p => p != hint)];
        }

        var point = step.RestorePointUuid is { } wanted
            ? points.FirstOrDefault(p => p.Point.Uuid == wanted)
                ?? throw new RecoveryRefusedException($"{wanted} is not a restore point of VM {step.Vm} on SR {step.SrUuid}")
            : points.FirstOrDefault()
                ?? throw new RecoveryRefusedException($"VM {step.Vm} has no restore point on SR {step.SrUuid}: nothing to fail over to");
        if (!step.Force)
        {
            return point;
        }

        if (point.Replica is not { } replica)
        {
            throw new RecoveryRefusedException($"the replica of restore point {point.Point.Uuid} no longer exists: start a copy (--copy)");
        }

        if (step.RestorePointUuid is not null && point != points[0])
        {
            throw new RecoveryRefusedException("a forced start starts the replica, which holds the newest restore point "
                + $"({points[0].Point.Uuid}): start a copy of an older one (--copy --restore-point)");
        }

        if (replica.PowerState != "Halted")
        {
            throw new RecoveryRefusedException($"replica {replica.Uuid} is {replica.PowerState}: it was started already");
        }

        return point;
    }

    private static async Task<VmRecord> CopyAsync(Pool pool, RestorePointOnSr point, StartReplica step, RecoveryLog log)
    {
        var name = CloneName(point);
        var clone = await log.StepAsync($"clone restore point {point.Point.Uuid} as \"{name}\"",
            () => pool.CloneVmAsync(point.Point.Ref, name)).ConfigureAwait(false);
        try
        {
            await log.StepAsync("make the clone a VM of its own", async () =>
            {
                await pool.SetIsATemplateAsync(clone, false).ConfigureAwait(false);
                var record = await pool.VmAsync(clone).ConfigureAwait(false);
                await Unprotect(pool, record, step.Vm, point).ConfigureAwait(false);
                await KeepBootOrderAsync(pool, clone, point.Replica).ConfigureAwait(false);
            }).ConfigureAwait(false);
            await FailoverNetworks.ApplyAsync(pool, clone, step.Networks, log).ConfigureAwait(false);
            if (step.Start)
            {
                await log.StepAsync("start the clone", () => pool.StartVmAsync(clone, startPaused: false, force: false))
                    .ConfigureAwait(false);
            }

            return await pool.VmAsync(clone).ConfigureAwait(false);
        }
        catch
        {
            // The clone is this command's own: it goes, so a failed copy leaves the pool as it was.
            await UndoCloneAsync(pool, clone).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<VmRecord> ForceAsync(Pool pool, RestorePointOnSr point, StartReplica step, RecoveryLog log)
    {
        var replica = point.Replica!;
        try
        {
            await log.StepAsync($"remove the start blocks of replica {replica.Uuid}", async () =>
            {
                await pool.SetBlockedOperationsAsync(replica.Ref, new Dictionary<string, string?> { ["start"] = null, ["start_on"] = null })
                    .ConfigureAwait(false);
                await pool.SetVmOtherConfigAsync(replica.Ref, new Dictionary<string, string?>
                {
                    [FailoverOfKey] = step.Vm, [FailoverPointKey] = point.Point.Uuid,
                }).ConfigureAwait(false);
                await pool.UpdateAllowedOperationsAsync(replica.Ref).ConfigureAwait(false);
            }).ConfigureAwait(false);
            await FailoverNetworks.ApplyAsync(pool, replica.Ref, step.Networks, log).ConfigureAwait(false);
            if (step.Start)
            {
                await log.StepAsync("start the replica", () => pool.StartVmAsync(replica.Ref, startPaused: false, force: false))
                    .ConfigureAwait(false);
            }
        }
        catch
        {
            // Not started: the replica is protected again, as it was, and stays in its chain.
            await ProtectAgainAsync(pool, replica).ConfigureAwait(false);
            throw;
        }

        return await pool.VmAsync(replica.Ref).ConfigureAwait(false);
    }

    private static async Task ProtectAgainAsync(Pool pool, VmRecord replica)
    {
        if ((await pool.VmAsync(replica.Ref).ConfigureAwait(false)).PowerState != "Halted")
        {
            return; // it started after all (the answer was lost): a started replica is never touched
        }

        await pool.SetVmOtherConfigAsync(replica.Ref, new Dictionary<string, string?> { [FailoverOfKey] = null, [FailoverPointKey] = null })
            .ConfigureAwait(false);
        await pool.SetBlockedOperationsAsync(replica.Ref, replica.BlockedOperations
            .Where(b => b.Key is "start" or "start_on").ToDictionary(b => b.Key, string? (b) => b.Value)).ConfigureAwait(false);
        await pool.UpdateAllowedOperationsAsync(replica.Ref).ConfigureAwait(false);
    }

    private static string Invariant(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>As Xen Orchestra names a started copy.</summary>
    private static string CloneName(RestorePointOnSr point) => $"{point.Replica?.NameLabel ?? point.Point.NameLabel}_clone";

    /// <summary>The clone is not a replica: the replication's metadata (which would make a run take it for its replica or a
    /// restore point) and its start blocks go; what it stands in for is kept under our own keys.</summary>
    private static async Task Unprotect(Pool pool, VmRecord clone, string vm, RestorePointOnSr point)
    {
        var keys = XoMetadata.ReplicationKeys.ToDictionary(k => k, string? (_) => null);
        await pool.StampAsync(clone, keys).ConfigureAwait(false);
        await pool.SetVmOtherConfigAsync(clone.Ref, new Dictionary<string, string?>
        {
            [FailoverOfKey] = vm, [FailoverPointKey] = point.Point.Uuid,
        }).ConfigureAwait(false);
        await pool.SetBlockedOperationsAsync(clone.Ref, new Dictionary<string, string?> { ["start"] = null, ["start_on"] = null })
            .ConfigureAwait(false);
        await pool.SetTagsAsync(clone.Ref, clone.Tags.Where(t => t != XoMetadata.ReplicaTag)).ConfigureAwait(false);
    }

    /// <summary>XAPI resets order and start_delay on clone and copy (<c>copy_vm_record</c>): the replica's, kept from the
    /// source VM, are set again.</summary>
    private static async Task KeepBootOrderAsync(Pool pool, string vm, VmRecord? replica)
    {
        if (replica is not null)
        {
            await pool.SetBootOrderAsync(vm, replica.Order, replica.StartDelay).ConfigureAwait(false);
        }
    }

    private static async Task UndoCloneAsync(Pool pool, string clone)
    {
        var record = await pool.VmAsync(clone).ConfigureAwait(false);
        if (record.PowerState != "Halted")
        {
            await pool.HardShutdownVmAsync(clone).ConfigureAwait(false);
            record = await pool.VmAsync(clone).ConfigureAwait(false);
        }

        await pool.DestroyVmAsync(record).ConfigureAwait(false);
    }
}
