using XcrCluster.Domain.Recovery;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// A planned failover's steps on the source VM's pool (the node orchestrates them around the job's final run and the
/// replica's start): check and clean shutdown of the source, its start again when the failover could not finish, and at
/// the end its start blocked with a message naming the replica now running in its place (as Xen Orchestra blocks a
/// replica's start: <c>blocked_operations</c>, whose value is the error XAPI answers, <c>OPERATION_BLOCKED</c>).
/// </summary>
public static class PlannedFailover
{
    /// <summary>On the source VM after a planned failover: the replica that runs in its place, its pool and the record.</summary>
    public const string FailedOverToKey = "xcr:failed-over-to";
    public const string FailedOverPoolKey = "xcr:failed-over-pool";
    public const string FailedOverRecordKey = "xcr:failed-over-record";

    public static async Task<RecoveryVmOutcome> PowerAsync(Pool pool, SourcePower step, CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        try
        {
            var vm = await log.StepAsync($"check source VM {step.Vm} on pool {pool.Name}", () => SourceAsync(pool, step.Vm))
                .ConfigureAwait(false);
            var details = new Dictionary<string, string> { ["powerState"] = vm.PowerState, ["name"] = vm.NameLabel };
            if (step.Action == SourcePowerAction.CleanShutdown && vm.PowerState == "Running")
            {
                await log.StepAsync("clean shutdown of the source VM", () => pool.CleanShutdownVmAsync(vm.Ref, ct)).ConfigureAwait(false);
                details["shutdown"] = "true";
            }
            else if (step.Action == SourcePowerAction.Start && vm.PowerState == "Halted")
            {
                await log.StepAsync("start the source VM again", () => pool.StartVmAsync(vm.Ref, startPaused: false, force: false))
                    .ConfigureAwait(false);
            }

            return log.Succeeded(step.Vm, details);
        }
        catch (Exception e)
        {
            return log.Failed(e);
        }
    }

    public static async Task<RecoveryVmOutcome> BlockAsync(Pool pool, BlockSourceStart step, CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        try
        {
            var vm = await log.StepAsync($"check source VM {step.Vm} on pool {pool.Name}", () => SourceAsync(pool, step.Vm))
                .ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if (step.Block)
            {
                if (vm.PowerState != "Halted")
                {
                    throw new RecoveryRefusedException($"source VM {step.Vm} is {vm.PowerState}: only a halted source is blocked");
                }

                await log.StepAsync("block the source VM's start", () => SetAsync(pool, vm, step.Message, step)).ConfigureAwait(false);
            }
            else
            {
                await log.StepAsync("unblock the source VM's start", () => SetAsync(pool, vm, null, null)).ConfigureAwait(false);
            }

            return log.Succeeded(step.Vm);
        }
        catch (Exception e)
        {
            return log.Failed(e);
        }
    }

    private static async Task SetAsync(Pool pool, VmRecord vm, string? message, BlockSourceStart? step)
    {
        await pool.SetBlockedOperationsAsync(vm.Ref, new Dictionary<string, string?> { ["start"] = message, ["start_on"] = message })
            .ConfigureAwait(false);
        await pool.SetVmOtherConfigAsync(vm.Ref, new Dictionary<string, string?>
        {
            [FailedOverToKey] = step?.ReplicaUuid, [FailedOverPoolKey] = step?.ReplicaPool, [FailedOverRecordKey] = step?.RecordId,
        }).ConfigureAwait(false);
        await pool.UpdateAllowedOperationsAsync(vm.Ref).ConfigureAwait(false);
    }

    /// <summary>The source VM: a VM (not a snapshot or template) that is Running or Halted; anything else is a refusal.</summary>
    private static async Task<VmRecord> SourceAsync(Pool pool, string uuid)
    {
        VmRecord vm;
        try
        {
            vm = await pool.VmAsync(await pool.VmRefAsync(uuid).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (XapiException e) when (e.Code is "UUID_INVALID" or "HANDLE_INVALID")
        {
            throw new RecoveryRefusedException($"source VM {uuid} does not exist on pool {pool.Name}");
        }

        if (vm.IsASnapshot || vm.IsATemplate)
        {
            throw new RecoveryRefusedException($"{uuid} is a snapshot or template, not a VM");
        }

        return vm.PowerState is "Running" or "Halted" ? vm
            : throw new RecoveryRefusedException($"source VM {uuid} is {vm.PowerState}: resume it or shut it down first");
    }
}
