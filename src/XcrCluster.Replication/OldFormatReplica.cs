using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// Replicas left by Xen Orchestra before 6.3 (docs/xen-orchestra.md §3, G0/G1): one halted VM per run, start blocked,
/// stamped with the job, schedule, SR, source VM and datetime (or a name ending in the datetime). Each is a restore point
/// in itself: XO's retention list (<c>listReplicatedVms</c>) counts them with the target snapshots of newer runs, and a
/// run never updates one in place (XO builds a new VM from clones of its disks).
/// </summary>
public static class OldFormatReplica
{
    /// <summary>G0 kept it on the replica VM (the source VM's uuid); nothing newer writes it.</summary>
    public const string G0BaseDeltaKey = "xo:base_delta";

    /// <summary>A retention entry of this schedule, SR and source VM: never a started VM, one whose start is no longer
    /// blocked, one that lacks a key, or one with restore points of its own (a live replica).</summary>
    public static bool IsEntry(VmRecord vm, JobRef job, string srUuid, string sourceVmUuid)
        => IsShaped(vm) && vm.OtherConfig.GetValueOrDefault(XoMetadata.Schedule) == job.ScheduleId
            && vm.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == srUuid && vm.OtherConfig.GetValueOrDefault(XoMetadata.Vm) == sourceVmUuid
            && RestorePointOrder.Key(vm.OtherConfig, vm.NameLabel) is not null;

    /// <summary>What retention may destroy besides a snapshot: a halted, start-blocked replica VM without snapshots.</summary>
    public static bool IsShaped(VmRecord vm)
        => !vm.IsASnapshot && !vm.IsATemplate && !vm.IsControlDomain && vm.PowerState == "Halted" && vm.Snapshots.Count == 0
            && vm.BlockedOperations.ContainsKey("start") && vm.OtherConfig.ContainsKey(XoMetadata.Sr);

    /// <summary>Made by XO ≤ 6.2 rather than by xo-cr-seed (whose seed a run continues in place): G0 left
    /// <see cref="G0BaseDeltaKey"/> on the VM, G1 stamped the job on the disks too (xo-cr-seed stamps only xo:copy_of there).</summary>
    public static async Task<bool> IsOlderXoReplicaAsync(Pool pool, VmRecord vm)
    {
        if (vm.OtherConfig.ContainsKey(G0BaseDeltaKey))
        {
            return true;
        }

        return vm.OtherConfig.ContainsKey(XoMetadata.Job)
            && (await pool.DisksAsync(vm).ConfigureAwait(false)).Any(d => d.Vdi.OtherConfig.ContainsKey(XoMetadata.Job));
    }
}
