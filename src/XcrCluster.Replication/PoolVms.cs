using XcrCluster.Domain;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>A pool's VMs: snapshots, copies, creation, power, metadata and destruction.</summary>
public sealed partial class Pool
{
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

    /// <summary>A VM's record as XAPI sends it (VM.get_record), every field kept: what VM.create takes from a snapshot.</summary>
    public async Task<Dictionary<string, object?>> VmFieldsAsync(string vm)
        => (Dictionary<string, object?>)(await Client.CallAsync("VM.get_record", vm).ConfigureAwait(false))!;

    /// <summary>VM.create from XAPI's constructor fields; returns the new VM's ref.</summary>
    public async Task<string> CreateVmAsync(Dictionary<string, object?> record)
        => (string)(await Client.CallAsync("VM.create", record).ConfigureAwait(false))!;

    /// <summary>VM.copy to <paramref name="sr"/> (full disks): the copy keeps is_a_template and other_config of its source
    /// (docs/xapi.md §3, <c>ocaml/xapi/xapi_vm_clone.ml</c> <c>copy_vm_record</c>), so a marker on the source is on the
    /// copy from the call that makes it. Returns the copy's ref.</summary>
    public async Task<string> CopyVmAsync(string vm, string name, string sr)
        => (string)(await Client.CallAsync("VM.copy", vm, name, sr).ConfigureAwait(false))!;

    /// <summary>VM.clone: a fast clone (its disks VDI.clone'd); a clone of a snapshot is a template until told otherwise.</summary>
    public async Task<string> CloneVmAsync(string vm, string name)
        => (string)(await Client.CallAsync("VM.clone", vm, name).ConfigureAwait(false))!;

    /// <summary>VM.set_order and VM.set_start_delay: where the VM boots in a whole-site start, and how long the next waits.</summary>
    public async Task SetBootOrderAsync(string vm, long order, long startDelay)
    {
        await Client.CallAsync("VM.set_order", vm, order).ConfigureAwait(false);
        await Client.CallAsync("VM.set_start_delay", vm, startDelay).ConfigureAwait(false);
    }

    /// <summary>VM.clean_shutdown: the guest is asked to stop and its disks are consistent once the call returns.</summary>
    public Task CleanShutdownVmAsync(string vm, CancellationToken ct = default) => Client.CallTaskAsync("VM.clean_shutdown", [vm], ct);

    /// <summary>VM.set_is_a_template (a snapshot or copy of one is a template until told otherwise).</summary>
    public Task SetIsATemplateAsync(string vm, bool isATemplate) => Client.CallAsync("VM.set_is_a_template", vm, isATemplate);

    /// <summary>VM.set_name_label.</summary>
    public Task SetVmNameLabelAsync(string vm, string name) => Client.CallAsync("VM.set_name_label", vm, name);

    /// <summary>VM.set_name_description.</summary>
    public Task SetVmNameDescriptionAsync(string vm, string description) => Client.CallAsync("VM.set_name_description", vm, description);

    /// <summary>VM.add_tags: one tag more.</summary>
    public Task AddTagAsync(string vm, string tag) => Client.CallAsync("VM.add_tags", vm, tag);

    /// <summary>VM.set_tags: the VM's tags become exactly <paramref name="tags"/>.</summary>
    public Task SetTagsAsync(string vm, IEnumerable<string> tags)
        => Client.CallAsync("VM.set_tags", vm, tags.Select(t => (object?)t).ToList());

    /// <summary>VM.update_allowed_operations: XAPI keeps stale allowed_operations after blocked_operations change otherwise.</summary>
    public Task UpdateAllowedOperationsAsync(string vm) => Client.CallAsync("VM.update_allowed_operations", vm);

    /// <summary>VM.start(vm, start_paused, force).</summary>
    public Task StartVmAsync(string vm, bool startPaused, bool force) => Client.CallAsync("VM.start", vm, startPaused, force);

    /// <summary>VM.hard_shutdown: a running VM stops at once (RunScope uses it on a health-check copy it destroys).</summary>
    public Task HardShutdownVmAsync(string vm) => Client.CallAsync("VM.hard_shutdown", vm);

    /// <summary>Whether a VM's guest reports PV drivers (VM_guest_metrics.get_PV_drivers_detected).</summary>
    public async Task<bool> PvDriversDetectedAsync(string guestMetrics)
        => await Client.CallAsync("VM_guest_metrics.get_PV_drivers_detected", guestMetrics).ConfigureAwait(false) is true;

    /// <summary>Xen Orchestra's setVmOtherConfig: the same keys on the VM and every disk of it. The disks are read before the
    /// VM is written (other_config does not change which disks it has), so the read needs no barrier for that write; they
    /// are returned for the caller's next writes to them (their refs and uuids, which no write changes).</summary>
    public async Task<IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)>> StampAsync(VmRecord vm, IReadOnlyDictionary<string, string?> entries)
    {
        var disks = await DisksAsync(vm).ConfigureAwait(false);
        await SetVmOtherConfigAsync(vm.Ref, entries).ConfigureAwait(false);
        foreach (var (_, vdi) in disks)
        {
            await SetVdiOtherConfigAsync(vdi.Ref, entries).ConfigureAwait(false);
        }

        return disks;
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
        await DestroyVmObjectAsync(vm.Ref).ConfigureAwait(false);
        foreach (var (_, vdi) in disks)
        {
            await DestroyVdiQuietlyAsync(vdi.Ref).ConfigureAwait(false);
        }
    }

    /// <summary>VM.destroy of the VM object alone (its disks stay) with no check at all: only <see cref="RunScope"/> (a
    /// run's destroys, after its checks) and <see cref="DestroyVmAsync"/> call it.</summary>
    internal Task DestroyVmObjectAsync(string vm) => Client.CallAsync("VM.destroy", vm);
}
