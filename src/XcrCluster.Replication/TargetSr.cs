using XcrCluster.Domain;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Replication;

/// <summary>
/// One target SR of a run (xo-cr-semantics.md §2.6, 2.9, 2.10) with one deliberate difference: every disk is
/// imported into a clone of the last restore point's disk (or a new VDI) and the live target VM is switched
/// to those disks only when all imports succeeded, so the live target always equals its last restore point
/// and a failure leaves nothing new visible.
/// </summary>
public sealed class TargetSr(Pool pool, SrRecord sr, JobRef job, string sourceVmUuid, string sourceVmName) : ITargetSide
{
    /// <summary>Marks what a run creates on the target until it commits (value: job and source VM), so the next
    /// run of the same job and VM finds what an interrupted run left (Xen Orchestra leaks it: its #10376, #10404).
    /// Runs of one job on one VM never overlap, so whatever carries this run's marker is a leftover.</summary>
    public const string ImportingKey = "xcr:importing";

    private readonly List<string> createdVdis = [];
    private string? createdVm;
    private readonly Dictionary<string, VdiRecord> bases = new(StringComparer.Ordinal);
    private VmRecord? liveTarget;

    public SrRecord Sr { get; } = sr;

    public string SrUuid => Sr.Uuid;

    public string SrName => Sr.NameLabel;

    public async Task<int> RemoveLeftoversAsync(CancellationToken ct)
        => await RemoveLeftoversAsync(await Pool.Client.GetAllRecordsAsync<VdiRecord>(ct).ConfigureAwait(false)).ConfigureAwait(false);

    public async Task FindBasesAsync(IReadOnlyList<string> snapshotVdiUuids, CancellationToken ct)
        => await FindBasesAsync(snapshotVdiUuids, await Pool.Client.GetAllRecordsAsync<VdiRecord>(ct).ConfigureAwait(false)).ConfigureAwait(false);

    public BlockFanOut.TargetSink ImportTo(string targetDisk, Action<long> imported, CancellationToken ct)
        => shape => Task.FromResult(ImportSink.Create(shape, async (body, length, token) =>
        {
            await Pool.Client.ImportVdiAsync(targetDisk, body, length, VdiFormat.Vhd, ct: token).ConfigureAwait(false);
            imported(length);
        }, ct));

    public Pool Pool { get; } = pool;

    /// <summary>Finds, for each source snapshot disk, the target disk holding the same content: a restore
    /// point disk of this job (current layout), else a plain disk marked as a copy of it (older layouts and
    /// xo-cr-seed seeds). Remembers the live target VM they belong to.</summary>
    public async Task FindBasesAsync(IEnumerable<string> snapshotVdiUuids, IReadOnlyList<VdiRecord> allVdis)
    {
        var onSr = allVdis.Where(v => v.Sr == Sr.Ref && v.Managed && !v.OtherConfig.ContainsKey(ImportingKey)).ToList();
        foreach (var uuid in snapshotVdiUuids)
        {
            var found = onSr.Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf) == uuid
                    && v.OtherConfig.GetValueOrDefault(XoMetadata.Job) == job.JobId && v.OtherConfig.GetValueOrDefault(XoMetadata.Vm) == sourceVmUuid)
                .OrderByDescending(v => v.OtherConfig.GetValueOrDefault(XoMetadata.Datetime), StringComparer.Ordinal).FirstOrDefault()
                ?? onSr.FirstOrDefault(v => !v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf) == uuid);
            if (found is not null)
            {
                bases[uuid] = found;
            }
        }

        liveTarget = await LiveTargetAsync().ConfigureAwait(false);
    }

    private string Marker => $"{job.JobId}/{sourceVmUuid}";

    /// <summary>Removes the VMs and disks an interrupted run of this job and VM left on the pool; returns how many.</summary>
    public async Task<int> RemoveLeftoversAsync(IReadOnlyList<VdiRecord> allVdis)
    {
        var removed = 0;
        foreach (var vm in (await Pool.Client.GetAllRecordsAsync<VmRecord>().ConfigureAwait(false)).Where(v => !v.IsASnapshot && v.OtherConfig.GetValueOrDefault(ImportingKey) == Marker))
        {
            await Pool.DestroyVmAsync(vm).ConfigureAwait(false);
            removed++;
        }

        foreach (var vdi in allVdis.Where(v => v.Sr == Sr.Ref && v.OtherConfig.GetValueOrDefault(ImportingKey) == Marker))
        {
            await Pool.DestroyVdiQuietlyAsync(vdi.Ref).ConfigureAwait(false);
            removed++;
        }

        return removed;
    }

    public bool HasBase(string snapshotVdiUuid) => bases.ContainsKey(snapshotVdiUuid);

    /// <summary>The VM the bases belong to: the VM a restore point was taken of, or the seed VM itself; else the
    /// VM behind this job's newest restore point on the SR.</summary>
    private async Task<VmRecord?> LiveTargetAsync()
    {
        foreach (var vdi in bases.Values)
        {
            foreach (var vbdRef in vdi.Vbds)
            {
                var vbd = await Pool.Client.GetRecordAsync<VbdRecord>(vbdRef).ConfigureAwait(false);
                var owner = await Pool.VmAsync(vbd.Vm).ConfigureAwait(false);
                var live = owner.IsASnapshot ? owner.SnapshotOf : owner.Ref;
                if (live != XapiValue.NullRef)
                {
                    return await Pool.VmAsync(live).ConfigureAwait(false);
                }
            }
        }

        // No disk to go by (a diskless VM, or every disk full): the VM the newest restore point of this job was taken of.
        var points = (await Pool.Client.GetAllRecordsAsync<VmRecord>().ConfigureAwait(false)).Where(v => v.IsASnapshot
            && v.OtherConfig.GetValueOrDefault(XoMetadata.Job) == job.JobId && v.OtherConfig.GetValueOrDefault(XoMetadata.Vm) == sourceVmUuid
            && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == Sr.Uuid && v.SnapshotOf != XapiValue.NullRef);
        var newest = points.MaxBy(v => v.OtherConfig.GetValueOrDefault(XoMetadata.Datetime), StringComparer.Ordinal);
        try
        {
            return newest is null ? null : await Pool.VmAsync(newest.SnapshotOf).ConfigureAwait(false);
        }
        catch (XapiException e) when (e.Code == "HANDLE_INVALID")
        {
            return null; // the live target was deleted by hand: a new one is made
        }
    }

    /// <summary>The disk this run imports into: a clone of the base (delta) or a new VDI (full), marked as
    /// importing and as a copy of the source snapshot disk.</summary>
    public async Task<string> PrepareDiskAsync(VdiRecord source, string? baseSnapshotVdiUuid)
    {
        string vdi;
        if (baseSnapshotVdiUuid is not null)
        {
            vdi = (string)(await Pool.Client.CallAsync("VDI.clone", bases[baseSnapshotVdiUuid].Ref).ConfigureAwait(false))!;
            createdVdis.Add(vdi);
            if (source.VirtualSize > bases[baseSnapshotVdiUuid].VirtualSize)
            {
                await Pool.Client.CallTaskAsync("VDI.resize", [vdi, source.VirtualSize]).ConfigureAwait(false);
            }
        }
        else
        {
            vdi = (string)(await Pool.Client.CallAsync("VDI.create", new Dictionary<string, object?>
            {
                ["name_label"] = source.NameLabel, ["name_description"] = source.NameDescription, ["SR"] = Sr.Ref, ["virtual_size"] = source.VirtualSize,
                ["type"] = source.Type, ["sharable"] = source.Sharable, ["read_only"] = false, ["other_config"] = new Dictionary<string, object?>(),
                ["tags"] = source.Tags.Select(t => (object?)t).ToList(), ["xenstore_data"] = new Dictionary<string, object?>(), ["sm_config"] = new Dictionary<string, object?>(),
            }).ConfigureAwait(false))!;
            createdVdis.Add(vdi);
        }

        await Pool.Client.CallAsync("VDI.set_name_label", vdi, $"[Importing] {source.NameLabel}").ConfigureAwait(false);
        await Pool.SetOtherConfigAsync("VDI", vdi, new Dictionary<string, string?>
        {
            [XoMetadata.CopyOf] = source.Uuid,
            [XoMetadata.ContentKey] = source.Uuid,
            [XoMetadata.Datetime] = null,
            [XoMetadata.Exported] = null,
            [ImportingKey] = Marker,
        }).ConfigureAwait(false);
        return vdi;
    }

    /// <summary>All disks arrived: the live target VM (created on the first run) gets the new disks, the
    /// snapshot's settings and devices, the metadata, then a restore point; old restore points beyond the
    /// retention go last. Returns (target VM uuid, restore point uuid).</summary>
    public async Task<(string TargetVm, string RestorePoint)> CommitAsync(TargetCommit commit)
    {
        var (snapshot, snapshotRecord, disks, transferStart, bytesRead, copyRetention) = (commit.Snapshot, commit.SnapshotRecord, commit.Disks, commit.TransferStart, commit.BytesRead, commit.CopyRetention);
        var vm = liveTarget ?? await CreateVmAsync(snapshot, snapshotRecord, commit.Vifs, commit.NetworkMapping).ConfigureAwait(false);
        await Pool.Client.CallAsync("VM.set_blocked_operations", vm.Ref, new Dictionary<string, object?> { ["start"] = XoMetadata.Importing, ["start_on"] = XoMetadata.Importing }).ConfigureAwait(false);
        await ApplySettingsAsync(vm, snapshot).ConfigureAwait(false);

        var oldVdis = new List<string>();
        foreach (var vbdRef in vm.Vbds)
        {
            var vbd = await Pool.Client.GetRecordAsync<VbdRecord>(vbdRef).ConfigureAwait(false);
            if (vbd.IsDisk)
            {
                oldVdis.Add(vbd.Vdi);
                await Pool.Client.CallAsync("VBD.destroy", vbd.Ref).ConfigureAwait(false);
            }
        }

        foreach (var (vbd, from, to) in disks)
        {
            await Pool.Client.CallAsync("VBD.create", new Dictionary<string, object?>
            {
                ["VM"] = vm.Ref, ["VDI"] = to, ["userdevice"] = vbd.Userdevice, ["bootable"] = vbd.Bootable, ["mode"] = vbd.Mode, ["type"] = "Disk",
                ["empty"] = false, ["unpluggable"] = vbd.Unpluggable, ["other_config"] = new Dictionary<string, object?>(), ["qos_algorithm_type"] = "",
                ["qos_algorithm_params"] = new Dictionary<string, object?>(),
            }).ConfigureAwait(false);
            await Pool.Client.CallAsync("VDI.set_name_label", to, from.NameLabel).ConfigureAwait(false);
            await Pool.SetOtherConfigAsync("VDI", to, new Dictionary<string, string?> { [ImportingKey] = null }).ConfigureAwait(false);
        }

        createdVdis.Clear();
        foreach (var old in oldVdis.Except(disks.Select(d => d.Target)))
        {
            await Pool.DestroyVdiQuietlyAsync(old).ConfigureAwait(false);
        }

        vm = await Pool.VmAsync(vm.Ref).ConfigureAwait(false);
        var datetime = XoMetadata.FormatDateTime(transferStart);
        await Pool.StampAsync(vm, new Dictionary<string, string?>
        {
            [XoMetadata.Sr] = Sr.Uuid, [XoMetadata.Datetime] = datetime, [XoMetadata.QcowFix] = "true",
            [XoMetadata.Job] = job.JobId, [XoMetadata.Schedule] = job.ScheduleId, [XoMetadata.Vm] = sourceVmUuid,
        }).ConfigureAwait(false);
        await Pool.SetOtherConfigAsync("VM", vm.Ref, new Dictionary<string, string?> { [XoMetadata.CopyOf] = snapshot.Uuid, [ImportingKey] = null }).ConfigureAwait(false);
        await Pool.Client.CallAsync("VM.set_name_description", vm.Ref, $"{snapshot.NameDescription} -- last replication: {datetime.Replace(":", "", StringComparison.Ordinal)} {bytesRead} B read").ConfigureAwait(false);
        await Pool.Client.CallAsync("VM.set_blocked_operations", vm.Ref, new Dictionary<string, object?> { ["start"] = XoMetadata.StartBlocked, ["start_on"] = XoMetadata.StartBlocked }).ConfigureAwait(false);

        var restorePoint = await Pool.SnapshotAsync(vm.Ref, XoMetadata.TargetSnapshotName(sourceVmName, job.JobName, job.ScheduleName, transferStart)).ConfigureAwait(false);
        await Pool.ResetAsync(await Pool.VmAsync(vm.Ref).ConfigureAwait(false)).ConfigureAwait(false);
        createdVm = null; // the new replica has its first restore point: it stays
        await ApplyRetentionAsync(copyRetention, restorePoint).ConfigureAwait(false);
        return (vm.Uuid, (await Pool.VmAsync(restorePoint).ConfigureAwait(false)).Uuid);
    }

    /// <summary>Undoes what this run made on the SR; the live target and earlier restore points stay as they were.</summary>
    public async Task RollBackAsync()
    {
        if (createdVm is not null)
        {
            try
            {
                await Pool.DestroyVmAsync(await Pool.VmAsync(createdVm).ConfigureAwait(false)).ConfigureAwait(false);
            }
            catch (XapiException e) when (e.Code == "HANDLE_INVALID")
            {
            }

            createdVm = null;
        }

        foreach (var vdi in createdVdis)
        {
            await Pool.DestroyVdiQuietlyAsync(vdi).ConfigureAwait(false);
        }

        createdVdis.Clear();
    }

    /// <summary>The fields VM.create takes from the snapshot's record (XAPI's constructor fields): nothing that
    /// names an object of the source pool.</summary>
    private static readonly HashSet<string> CreateFields =
    [
        "name_label", "name_description", "user_version", "is_a_template", "affinity", "memory_target", "memory_static_max", "memory_dynamic_max",
        "memory_dynamic_min", "memory_static_min", "VCPUs_params", "VCPUs_max", "VCPUs_at_startup", "actions_after_shutdown", "actions_after_reboot",
        "actions_after_crash", "PV_bootloader", "PV_kernel", "PV_ramdisk", "PV_args", "PV_bootloader_args", "PV_legacy_args", "HVM_boot_policy",
        "HVM_boot_params", "HVM_shadow_multiplier", "platform", "PCI_bus", "other_config", "recommendations", "xenstore_data", "ha_always_run",
        "ha_restart_priority", "tags", "blocked_operations", "protection_policy", "is_snapshot_from_vmpp", "appliance", "start_delay",
        "shutdown_delay", "order", "suspend_SR", "version", "generation_id", "hardware_platform_version", "has_vendor_device", "reference_label",
        "domain_type", "NVRAM",
    ];

    private async Task<VmRecord> CreateVmAsync(VmRecord snapshot, IReadOnlyDictionary<string, object?> snapshotRecord, IReadOnlyList<SourceVif> vifs, IReadOnlyDictionary<string, string>? mapping)
    {
        var record = snapshotRecord.Where(p => CreateFields.Contains(p.Key)).ToDictionary();
        record["is_a_template"] = false;
        record["affinity"] = XapiValue.NullRef;
        record["suspend_SR"] = XapiValue.NullRef;
        record["ha_always_run"] = false;
        record["name_label"] = $"[Importing…] {snapshot.NameLabel}";
        record["blocked_operations"] = new Dictionary<string, object?> { ["start"] = XoMetadata.Importing, ["start_on"] = XoMetadata.Importing };
        var otherConfig = ((Dictionary<string, object?>?)record.GetValueOrDefault("other_config") ?? []).Where(p => !p.Key.StartsWith("xo:", StringComparison.Ordinal)).ToDictionary();
        otherConfig.Remove("auto_poweron");
        otherConfig[ImportingKey] = Marker;
        record["other_config"] = otherConfig;
        var vm = (string)(await Pool.Client.CallAsync("VM.create", record).ConfigureAwait(false))!;
        createdVm = vm;
        try
        {
            await CopyVifsAsync(vm, vifs, mapping).ConfigureAwait(false);
        }
        catch
        {
            await Pool.Client.CallAsync("VM.destroy", vm).ConfigureAwait(false);
            throw;
        }

        return await Pool.VmAsync(vm).ConfigureAwait(false);
    }

    /// <summary>The snapshot's settings on an existing target (memory atomically, CPUs, boot, name, tags).</summary>
    private async Task ApplySettingsAsync(VmRecord vm, VmRecord snapshot)
    {
        var c = Pool.Client;
        await c.CallAsync("VM.set_memory_limits", vm.Ref, snapshot.MemoryStaticMin, snapshot.MemoryStaticMax, snapshot.MemoryDynamicMin, snapshot.MemoryDynamicMax).ConfigureAwait(false);
        await c.CallAsync("VM.set_VCPUs_max", vm.Ref, snapshot.VcpusMax).ConfigureAwait(false);
        await c.CallAsync("VM.set_VCPUs_at_startup", vm.Ref, snapshot.VcpusAtStartup).ConfigureAwait(false);
        await c.CallAsync("VM.set_name_label", vm.Ref, snapshot.NameLabel).ConfigureAwait(false);
        await c.CallAsync("VM.set_platform", vm.Ref, ToMap(snapshot.Platform)).ConfigureAwait(false);
        await c.CallAsync("VM.set_HVM_boot_policy", vm.Ref, snapshot.HvmBootPolicy).ConfigureAwait(false);
        await c.CallAsync("VM.set_HVM_boot_params", vm.Ref, ToMap(snapshot.HvmBootParams)).ConfigureAwait(false);
        var tags = snapshot.Tags.Append(XoMetadata.ReplicaTag).Distinct().ToList();
        var ha = (string?)await c.CallAsync("VM.get_ha_restart_priority", vm.Ref).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(ha))
        {
            await c.CallAsync("VM.set_ha_restart_priority", vm.Ref, "").ConfigureAwait(false);
            tags.Add(XoMetadata.HaDisabledTag);
        }

        await c.CallAsync("VM.set_tags", vm.Ref, tags.Distinct().Select(t => (object?)t).ToList()).ConfigureAwait(false);
        await Pool.SetOtherConfigAsync("VM", vm.Ref, new Dictionary<string, string?> { ["auto_poweron"] = null }).ConfigureAwait(false);
    }

    /// <summary>VIFs with the source MACs, each on the target network <see cref="NetworkMapping"/> chooses.</summary>
    private async Task CopyVifsAsync(string vm, IReadOnlyList<SourceVif> vifs, IReadOnlyDictionary<string, string>? mapping)
    {
        var networks = await Pool.NetworksAsync().ConfigureAwait(false);
        foreach (var vif in vifs)
        {
            var network = NetworkMapping.Choose(vif.Network, networks, mapping);
            await Pool.Client.CallAsync("VIF.create", new Dictionary<string, object?>
            {
                ["VM"] = vm, ["network"] = network.Ref, ["device"] = vif.Record.Device, ["MAC"] = vif.Record.Mac, ["MTU"] = vif.Record.Mtu,
                ["other_config"] = new Dictionary<string, object?>(), ["qos_algorithm_type"] = "", ["qos_algorithm_params"] = new Dictionary<string, object?>(),
                ["locking_mode"] = vif.Record.LockingMode,
            }).ConfigureAwait(false);
        }
    }

    /// <summary>Keeps the new restore point and the newest copyRetention-1 others (by datetime; runs within one
    /// second share it, so the new one is never left to the sort).</summary>
    private Task ApplyRetentionAsync(int copyRetention, string newPoint) => PruneAsync(copyRetention - 1, newPoint);

    public Task<int> PruneAsync(int keep, CancellationToken ct) => PruneAsync(keep, null);

    private async Task<int> PruneAsync(int keep, string? except)
    {
        var restorePoints = new List<VmRecord>();
        foreach (var candidate in await Pool.Client.GetAllRecordsAsync<VmRecord>().ConfigureAwait(false))
        {
            var oc = candidate.OtherConfig;
            if (candidate.Ref != except && candidate.IsASnapshot && oc.GetValueOrDefault(XoMetadata.Schedule) == job.ScheduleId && oc.GetValueOrDefault(XoMetadata.Sr) == Sr.Uuid
                && oc.GetValueOrDefault(XoMetadata.Vm) == sourceVmUuid && oc.ContainsKey(XoMetadata.Datetime))
            {
                restorePoints.Add(candidate);
            }
        }

        var old = Retention.OldEntries(keep, restorePoints, v => v.OtherConfig[XoMetadata.Datetime]).ToList();
        foreach (var point in old)
        {
            await Pool.DestroyVmAsync(point).ConfigureAwait(false);
        }

        return old.Count;
    }

    /// <summary>Xen Orchestra's health check (xo-cr-semantics.md §2.12): a copy of the restore point on the SR, tagged
    /// never to be backed up, started without VIFs; healthy once it runs with PV drivers detected. The copy is
    /// destroyed whatever happens.</summary>
    public async Task<string> HealthCheckAsync(string restorePointUuid, string srUuid, TimeSpan timeout, CancellationToken ct)
    {
        var c = Pool.Client;
        var point = await Pool.VmRefAsync(restorePointUuid).ConfigureAwait(false);
        var sr = await c.GetRefByUuidAsync<SrRecord>(srUuid, ct).ConfigureAwait(false);
        var copy = (string)(await c.CallAsync("VM.copy", point, $"Health Check - {sourceVmName}", sr).ConfigureAwait(false))!;
        try
        {
            await c.CallAsync("VM.set_is_a_template", copy, false).ConfigureAwait(false);
            await c.CallAsync("VM.set_blocked_operations", copy, new Dictionary<string, object?>()).ConfigureAwait(false);
            await c.CallAsync("VM.add_tags", copy, "xo:no-bak=Health Check").ConfigureAwait(false);
            foreach (var vif in (await Pool.VmAsync(copy).ConfigureAwait(false)).Vifs)
            {
                await c.CallAsync("VIF.destroy", vif).ConfigureAwait(false); // isolated: the copy must not meet the network as the source VM
            }

            var started = DateTimeOffset.UtcNow;
            await c.CallAsync("VM.start", copy, false, true).ConfigureAwait(false);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            while (true)
            {
                var vm = await Pool.VmAsync(copy).ConfigureAwait(false);
                if (vm.PowerState == "Running" && vm.GuestMetrics != XapiValue.NullRef
                    && await c.CallAsync("VM_guest_metrics.get_PV_drivers_detected", vm.GuestMetrics).ConfigureAwait(false) is true)
                {
                    return $"the copy on SR {srUuid} started and its guest answered in {(DateTimeOffset.UtcNow - started).TotalSeconds:F1} s";
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), limit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new TimeoutException($"the copy's guest did not answer within {timeout.TotalMinutes:F0} min");
                }
            }
        }
        finally
        {
            await Pool.DestroyVmAsync(await Pool.VmAsync(copy).ConfigureAwait(false)).ConfigureAwait(false);
        }
    }

    private static Dictionary<string, object?> ToMap(IReadOnlyDictionary<string, string> map) => map.ToDictionary(p => p.Key, p => (object?)p.Value);
}
