using XcrCluster.Domain;
using XcrCluster.Domain.Pools;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>The XAPI calls a run makes on one pool, over the product's client, with Xen Orchestra's conventions
/// for other_config (each key removed then added, so writes are idempotent).</summary>
public sealed class Pool(XapiClient client)
{
    public XapiClient Client { get; } = client;

    /// <summary>The pool's registered name: the key of its slots at the gate.</summary>
    public string Name { get; init; } = "";

    /// <summary>Where this pool's snapshot and transfer slots come from (its pool agent); open by default.</summary>
    public IPoolGate Gate { get; init; } = OpenGate.Instance;

    /// <summary>VM.snapshot within the pool's snapshot limit.</summary>
    public async Task<string> SnapshotAsync(string vm, string name, CancellationToken ct = default)
        => (await SnapshotAsync(vm, name, [], ct).ConfigureAwait(false)).Ref;

    /// <summary>VM.snapshot within the pool's snapshot limit, leaving out <paramref name="ignoredVdis"/> where the pool
    /// can: ignore_vdis exists since xapi 21.4 (XCP-ng 8.3), so it is sent only when a disk is left out, and a pool
    /// that answers MESSAGE_PARAMETER_COUNT_MISMATCH is asked again without it, as Xen Orchestra does
    /// (docs/xen-orchestra.md §8). <c>Ignored</c> tells whether the pool left them out; if not, the caller must.</summary>
    public async Task<(string Ref, bool Ignored)> SnapshotAsync(string vm, string name, IReadOnlyList<object?> ignoredVdis,
        CancellationToken ct = default)
    {
        await using var slot = await Gate.AcquireAsync(Name, Domain.Pools.SlotKind.Snapshot, 1, ct).ConfigureAwait(false);
        if (ignoredVdis.Count > 0)
        {
            try
            {
                return ((string)(await Client.CallTaskAsync("VM.snapshot", [vm, name, ignoredVdis], ct).ConfigureAwait(false))!, true);
            }
            catch (XapiException e) when (e.Code == "MESSAGE_PARAMETER_COUNT_MISMATCH")
            {
                // An older pool: the caller removes the disks left out from the snapshot instead.
            }
        }

        return ((string)(await Client.CallTaskAsync("VM.snapshot", [vm, name], ct).ConfigureAwait(false))!, ignoredVdis.Count == 0);
    }

    public Task<VmRecord> VmAsync(string @ref) => Client.GetRecordAsync<VmRecord>(@ref);

    public Task<VdiRecord> VdiAsync(string @ref) => Client.GetRecordAsync<VdiRecord>(@ref);

    public async Task<string> VmRefAsync(string uuid) => await Client.GetRefByUuidAsync<VmRecord>(uuid).ConfigureAwait(false);

    /// <summary>A VM's disk VBDs with their VDIs, in userdevice order.</summary>
    public async Task<IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)>> DisksAsync(VmRecord vm)
    {
        var disks = new List<(VbdRecord, VdiRecord)>();
        foreach (var vbdRef in vm.Vbds)
        {
            var vbd = await Client.GetRecordAsync<VbdRecord>(vbdRef).ConfigureAwait(false);
            if (vbd.IsDisk)
            {
                disks.Add((vbd, await VdiAsync(vbd.Vdi).ConfigureAwait(false)));
            }
        }

        return ByUserdevice(disks);
    }

    /// <summary>The pool as an inventory: its SRs, and its VMs (no templates, snapshots or control domains) with their disks,
    /// in one get_all_records per class, sorted by name.</summary>
    public async Task<PoolInventory> InventoryAsync(CancellationToken ct = default)
    {
        var srsRead = Client.GetAllRecordsAsync<SrRecord>(ct);
        var vmsRead = Client.GetAllRecordsAsync<VmRecord>(ct);
        var vbdsRead = Client.GetAllRecordsAsync<VbdRecord>(ct);
        var vdisRead = Client.GetAllRecordsAsync<VdiRecord>(ct);
        await Task.WhenAll(srsRead, vmsRead, vbdsRead, vdisRead).ConfigureAwait(false);
        var srs = await srsRead.ConfigureAwait(false);
        var vdis = (await vdisRead.ConfigureAwait(false)).ToDictionary(v => v.Ref, StringComparer.Ordinal);
        var srUuids = srs.ToDictionary(s => s.Ref, s => s.Uuid, StringComparer.Ordinal);
        var disksOf = (await vbdsRead.ConfigureAwait(false)).Where(v => v.IsDisk && vdis.ContainsKey(v.Vdi))
            .ToLookup(v => v.Vm, v => (Vbd: v, Vdi: vdis[v.Vdi]), StringComparer.Ordinal);
        var vms = (await vmsRead.ConfigureAwait(false)).Where(vm => !vm.IsATemplate && !vm.IsASnapshot && !vm.IsControlDomain)
            .Select(vm => new VmInfo(
            vm.Uuid, vm.NameLabel, vm.PowerState, vm.Tags,
            [.. ByUserdevice(disksOf[vm.Ref]).Select(
                d => new DiskInfo(d.Vdi.Uuid, d.Vdi.NameLabel, d.Vdi.VirtualSize, srUuids.GetValueOrDefault(d.Vdi.Sr, "")))],
            VmInfo.IsReplicaRecord(vm.OtherConfig, vm.BlockedOperations.Keys, vm.Tags),
            vm.OtherConfig.GetValueOrDefault(XoMetadata.Job),
            vm.BlockedOperations.ContainsKey("start")));
        return new PoolInventory(
            Name,
            [.. srs.Select(s => new SrInfo(s.Uuid, s.NameLabel, s.Type, s.Shared, s.PhysicalSize, s.PhysicalUtilisation))
                .OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Uuid, StringComparer.Ordinal)],
            [.. vms.OrderBy(v => v.Name, StringComparer.Ordinal).ThenBy(v => v.Uuid, StringComparer.Ordinal)],
            DateTimeOffset.UtcNow);
    }

    private static List<(VbdRecord Vbd, VdiRecord Vdi)> ByUserdevice(IEnumerable<(VbdRecord Vbd, VdiRecord Vdi)> disks)
        => disks.OrderBy(d => int.TryParse(d.Vbd.Userdevice, out var u) ? u : int.MaxValue).ToList();

    /// <summary>The pool's networks with their VLAN (first PIF) and whether they carry the management interface.</summary>
    public async Task<IReadOnlyList<NetworkInfo>> NetworksAsync()
    {
        var pifs = await Client.GetAllRecordsAsync<PifRecord>().ConfigureAwait(false);
        return (await Client.GetAllRecordsAsync<NetworkRecord>().ConfigureAwait(false)).Select(n =>
        {
            var own = pifs.Where(p => p.Network == n.Ref).ToList();
            return new NetworkInfo(n.Ref, n.Uuid, n.NameLabel, own.Count > 0 ? own[0].Vlan : null, own.Any(p => p.Management));
        }).ToList();
    }

    public Task SetOtherConfigAsync(string cls, string @ref, IReadOnlyDictionary<string, string?> entries)
        => Client.SetMapEntriesAsync(cls, @ref, "other_config", entries);

    /// <summary>Entries of any map field (a null value removes the key).</summary>
    public Task SetMapAsync(string cls, string @ref, string field, IReadOnlyDictionary<string, string?> entries)
        => Client.SetMapEntriesAsync(cls, @ref, field, entries);

    /// <summary>Attaches a disk to a halted VM; <paramref name="marker"/> (key, value) marks the VBD from the call that creates
    /// it.</summary>
    public async Task<string> AttachAsync(string vm, string vdi, string userdevice, bool bootable, string mode,
        (string Key, string Value)? marker,
        bool unpluggable = true)
        => (string)(await Client.CallAsync("VBD.create", new Dictionary<string, object?>
        {
            ["VM"] = vm, ["VDI"] = vdi, ["userdevice"] = userdevice, ["bootable"] = bootable, ["mode"] = mode, ["type"] = "Disk",
            ["empty"] = false, ["unpluggable"] = unpluggable, ["qos_algorithm_type"] = "",
            ["qos_algorithm_params"] = new Dictionary<string, object?>(),
            ["other_config"] = marker is { } m ? new Dictionary<string, object?> { [m.Key] = m.Value } : new Dictionary<string, object?>(),
        }).ConfigureAwait(false))!;

    /// <summary>Xen Orchestra's setVmOtherConfig: the same keys on the VM and every disk of it.</summary>
    public async Task StampAsync(VmRecord vm, IReadOnlyDictionary<string, string?> entries)
    {
        await SetOtherConfigAsync("VM", vm.Ref, entries).ConfigureAwait(false);
        foreach (var (_, vdi) in await DisksAsync(vm).ConfigureAwait(false))
        {
            await SetOtherConfigAsync("VDI", vdi.Ref, entries).ConfigureAwait(false);
        }
    }

    /// <summary>resetVmOtherConfig: the job keys leave the VM and its disks (xo:backup:sr stays).</summary>
    public Task ResetAsync(VmRecord vm) => StampAsync(vm, XoMetadata.ResetOnLiveTarget.ToDictionary(k => k, string? (_) => null));

    /// <summary>Destroys a halted VM and the disks only it uses (its snapshots' disks stay with them); an operator's
    /// purge only. A run destroys through <see cref="RunScope"/>.</summary>
    public async Task DestroyVmAsync(VmRecord vm)
    {
        if (vm.PowerState != "Halted")
        {
            throw new InvalidOperationException($"VM {vm.Uuid} ({vm.NameLabel}) is {vm.PowerState}: a running VM is never destroyed");
        }

        var disks = await DisksAsync(vm).ConfigureAwait(false);
        await Client.CallAsync("VM.destroy", vm.Ref).ConfigureAwait(false);
        foreach (var (_, vdi) in disks)
        {
            await DestroyVdiQuietlyAsync(vdi.Ref).ConfigureAwait(false);
        }
    }

    /// <summary>Cleanup never hides the error that caused it: a disk already gone or still in use is left.</summary>
    public async Task DestroyVdiQuietlyAsync(string vdi)
    {
        try
        {
            if ((await VdiAsync(vdi).ConfigureAwait(false)).Vbds.Count == 0)
            {
                await Client.CallAsync("VDI.destroy", vdi).ConfigureAwait(false);
            }
        }
        catch (XapiException)
        {
        }
    }
}
