using XcrCluster.Domain;
using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Replication;

/// <summary>
/// The commit of one target, atomic as seen from the pool. Before the commit point the replica carries a marker:
/// a replica made now is created with <see cref="RunScope.ImportingKey"/>; an existing one first gets
/// <see cref="RunScope.CommittingKey"/>, then records its disks (<see cref="RunScope.PreviousDisksKey"/>) before any of
/// them is detached (so a marked replica without that record has not changed yet). The replica is
/// then switched to the new disks, stamped, and snapshotted: that VM.snapshot is the commit point, one call that
/// makes the restore point with all its disks. <see cref="ReplicaRecovery.RollForwardAsync"/> finishes the commit.
/// Interrupted anywhere, the next run (or this run's rollback) rolls back before the point and forward after it.
/// </summary>
public sealed class ReplicaCommit(RunScope scope, SrRecord sr, string sourceVmName)
{
    private Pool Pool => scope.Pool;

    public sealed record Committed(string Vm, string RestorePoint, string RestorePointRef);

    public async Task<Committed> RunAsync(TargetCommit commit, VmRecord? liveTarget)
    {
        var snapshot = commit.Snapshot;
        VmRecord vm;
        if (liveTarget is not null)
        {
            vm = await Pool.VmAsync(liveTarget.Ref).ConfigureAwait(false);
            var disks = await Pool.DisksAsync(vm).ConfigureAwait(false);
            await Pool.SetVmOtherConfigAsync(vm.Ref, new Dictionary<string, string?> { [RunScope.CommittingKey] = scope.Marker })
                .ConfigureAwait(false);
            await Pool.SetVmOtherConfigAsync(vm.Ref,
                new Dictionary<string, string?> { [RunScope.PreviousDisksKey] = ReplicaRecovery.Encode(disks) })
                .ConfigureAwait(false);
            await Pool.SetBlockedOperationsAsync(vm.Ref, new Dictionary<string, string?>
            {
                ["start"] = XoMetadata.Importing, ["start_on"] = XoMetadata.Importing,
            }).ConfigureAwait(false);
            foreach (var (vbd, _) in disks)
            {
                await Pool.DestroyVbdAsync(vbd.Ref).ConfigureAwait(false);
            }
        }
        else
        {
            vm = await CreateVmAsync(snapshot, commit.SnapshotRecord).ConfigureAwait(false);
        }

        // Every setting, VIFs included, is refreshed from the source snapshot on every run, not only at creation.
        await ReplicaSettings.ApplyAsync(Pool, vm, commit, created: liveTarget is null, scope.Marker).ConfigureAwait(false);
        foreach (var (vbd, from, to) in commit.Disks)
        {
            await Pool.AttachAsync(vm.Ref, to, vbd.Userdevice, vbd.Bootable, vbd.Mode, (RunScope.ImportingKey, scope.Marker),
                vbd.Unpluggable).ConfigureAwait(false);
            await Pool.SetVdiNameLabelAsync(to, from.NameLabel).ConfigureAwait(false);

            // Attached to the marked replica, the disk is explained by it; the restore point must not inherit the key.
            await Pool.SetVdiOtherConfigAsync(to, new Dictionary<string, string?> { [RunScope.ImportingKey] = null })
                .ConfigureAwait(false);
        }

        vm = await Pool.VmAsync(vm.Ref).ConfigureAwait(false);
        var datetime = XoMetadata.FormatDateTime(commit.TransferStart);
        await Pool.StampAsync(vm, new Dictionary<string, string?>
        {
            [XoMetadata.Sr] = sr.Uuid, [XoMetadata.Datetime] = datetime, [XoMetadata.QcowFix] = "true",
            [XoMetadata.Job] = scope.Job.JobId, [XoMetadata.Schedule] = scope.Job.ScheduleId, [XoMetadata.Vm] = scope.SourceVmUuid,
        }).ConfigureAwait(false);
        await Pool.SetVmOtherConfigAsync(vm.Ref, new Dictionary<string, string?> { [XoMetadata.CopyOf] = snapshot.Uuid })
            .ConfigureAwait(false);
        await Pool.SetVmNameDescriptionAsync(vm.Ref,
            $"{snapshot.NameDescription} -- last replication: "
                + $"{datetime.Replace(":", "", StringComparison.Ordinal)} {commit.BytesRead} B read").ConfigureAwait(false);

        // The commit point.
        var name = XoMetadata.TargetSnapshotName(sourceVmName, scope.Job.JobName, scope.Job.ScheduleName, commit.TransferStart);
        var pointRef = await Pool.SnapshotAsync(vm.Ref, name).ConfigureAwait(false);
        var point = await Pool.VmAsync(pointRef).ConfigureAwait(false);
        await ReplicaRecovery.RollForwardAsync(scope, await Pool.VmAsync(vm.Ref).ConfigureAwait(false), point).ConfigureAwait(false);
        return new Committed(vm.Uuid, point.Uuid, pointRef);
    }

    /// <summary>The fields VM.create takes from the snapshot's record (XAPI's constructor fields): nothing that
    /// names an object of the source pool.</summary>
    internal static readonly HashSet<string> CreateFields =
    [
        "name_label", "name_description", "user_version", "is_a_template", "affinity", "memory_target", "memory_static_max",
        "memory_dynamic_max", "memory_dynamic_min", "memory_static_min", "VCPUs_params", "VCPUs_max", "VCPUs_at_startup",
        "actions_after_shutdown", "actions_after_reboot", "actions_after_crash", "PV_bootloader", "PV_kernel", "PV_ramdisk", "PV_args",
        "PV_bootloader_args", "PV_legacy_args", "HVM_boot_policy", "HVM_boot_params", "HVM_shadow_multiplier", "platform", "PCI_bus",
        "other_config", "recommendations", "xenstore_data", "ha_always_run", "ha_restart_priority", "tags", "blocked_operations",
        "protection_policy", "is_snapshot_from_vmpp", "appliance", "start_delay", "shutdown_delay", "order", "suspend_SR", "version",
        "generation_id", "hardware_platform_version", "has_vendor_device", "reference_label", "domain_type", "NVRAM",
    ];

    /// <summary>A new replica, marked by VM.create itself, start blocked while importing; its VIFs come with the
    /// settings (<see cref="ReplicaVifs"/>, each marked by VIF.create).</summary>
    private async Task<VmRecord> CreateVmAsync(VmRecord snapshot, IReadOnlyDictionary<string, object?> snapshotRecord)
    {
        var record = snapshotRecord.Where(p => CreateFields.Contains(p.Key)).ToDictionary();
        record["is_a_template"] = false;
        record["affinity"] = XapiValue.NullRef;
        record["suspend_SR"] = XapiValue.NullRef;
        record["ha_always_run"] = false;
        record["ha_restart_priority"] = ""; // never protected, not even until the settings: see ReplicaSettings
        record["name_label"] = $"[Importing…] {snapshot.NameLabel}";
        record["blocked_operations"] = new Dictionary<string, object?> { ["start"] = XoMetadata.Importing,
            ["start_on"] = XoMetadata.Importing };
        var otherConfig = ((Dictionary<string, object?>?)record.GetValueOrDefault("other_config") ?? [])
            .Where(p => !p.Key.StartsWith("xo:", StringComparison.Ordinal) && !p.Key.StartsWith("xcr:", StringComparison.Ordinal))
            .ToDictionary();
        otherConfig.Remove("auto_poweron");
        otherConfig[RunScope.ImportingKey] = scope.Marker;
        record["other_config"] = otherConfig;
        var vm = scope.CreatedVm(await Pool.CreateVmAsync(record).ConfigureAwait(false));
        return await Pool.VmAsync(vm).ConfigureAwait(false);
    }
}
