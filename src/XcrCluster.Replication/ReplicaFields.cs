using System.Globalization;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>The source snapshot's plain settings on the replica, as Xen Orchestra's update mode sets them
/// (docs/xen-orchestra.md §10; spec §2.10 step 1): actions, vendor device, shadow multiplier, PV boot,
/// version, CPU parameters and xenstore data (order and delays, which VM.snapshot resets, come under our keys:
/// <see cref="ReplicaSettings"/>). Only a field the record carries and the replica holds differently is
/// set: a record from an older pool (or a seed manifest) without a field leaves the replica's as it is.</summary>
internal static class ReplicaFields
{
    private sealed record Field(string Name, Func<Pool, string, FieldReader, Task> Set);

    /// <summary>The domain type is not here: <see cref="ReplicaSettings"/> sets it after the boot policy.</summary>
    private static readonly Field[] Fields =
    [
        new("actions_after_shutdown", (p, vm, r) => p.SetActionsAfterShutdownAsync(vm, r.Str("actions_after_shutdown"))),
        new("actions_after_reboot", (p, vm, r) => p.SetActionsAfterRebootAsync(vm, r.Str("actions_after_reboot"))),
        new("actions_after_crash", (p, vm, r) => p.SetActionsAfterCrashAsync(vm, r.Str("actions_after_crash"))),
        new("has_vendor_device", (p, vm, r) => p.SetHasVendorDeviceAsync(vm, r.Bool("has_vendor_device"))),
        new("HVM_shadow_multiplier", (p, vm, r) => p.SetHvmShadowMultiplierAsync(vm, r.Double("HVM_shadow_multiplier"))),
        new("PV_bootloader", (p, vm, r) => p.SetPvBootloaderAsync(vm, r.Str("PV_bootloader"))),
        new("PV_kernel", (p, vm, r) => p.SetPvKernelAsync(vm, r.Str("PV_kernel"))),
        new("PV_ramdisk", (p, vm, r) => p.SetPvRamdiskAsync(vm, r.Str("PV_ramdisk"))),
        new("PV_args", (p, vm, r) => p.SetPvArgsAsync(vm, r.Str("PV_args"))),
        new("PV_bootloader_args", (p, vm, r) => p.SetPvBootloaderArgsAsync(vm, r.Str("PV_bootloader_args"))),
        new("PV_legacy_args", (p, vm, r) => p.SetPvLegacyArgsAsync(vm, r.Str("PV_legacy_args"))),
        new("recommendations", (p, vm, r) => p.SetRecommendationsAsync(vm, r.Str("recommendations"))),
        new("user_version", (p, vm, r) => p.SetUserVersionAsync(vm, r.Long("user_version"))),
        new("VCPUs_params", (p, vm, r) => p.SetVcpusParamsAsync(vm, r.Map("VCPUs_params"))),
        new("xenstore_data", (p, vm, r) => p.SetXenstoreDataAsync(vm, r.Map("xenstore_data"))),
    ];

    /// <summary>The BIOS string keys XAPI lets a client set (<c>settable_vm_bios_string_keys</c>, ocaml/xapi/xapi_globs.ml).</summary>
    private static readonly HashSet<string> SettableBiosKeys =
    [
        "bios-vendor", "bios-version", "system-manufacturer", "system-product-name", "system-version", "system-serial-number",
        "baseboard-manufacturer", "baseboard-product-name", "baseboard-version", "baseboard-serial-number", "baseboard-asset-tag",
        "baseboard-location-in-chassis", "enclosure-asset-tag",
    ];

    public static async Task RefreshAsync(Pool pool, string vm, IReadOnlyDictionary<string, object?> source)
    {
        var current = await pool.VmFieldsAsync(vm).ConfigureAwait(false);
        var reader = new FieldReader(source);
        foreach (var field in Fields.Where(f => source.ContainsKey(f.Name) && !Same(source[f.Name], current.GetValueOrDefault(f.Name))))
        {
            await field.Set(pool, vm, reader).ConfigureAwait(false);
        }
    }

    /// <summary>The source's BIOS strings on a replica that has none yet. XAPI's VM.set_bios_strings refuses a VM that has
    /// BIOS strings (VM_BIOS_STRINGS_ALREADY_SET, <c>set_bios_strings</c> in ocaml/xapi/xapi_vm.ml), and a VM gets them at
    /// its first start: so they are set once, on a replica this run created, as Xen Orchestra does after VM.create; a
    /// later change on the source cannot follow. XAPI accepts only its settable keys with non-empty values and puts the
    /// generic strings under them (the source's other keys, oem-1 and the like, come back generic).</summary>
    public static async Task SetBiosStringsAsync(Pool pool, string vm, IReadOnlyDictionary<string, object?> source)
    {
        var strings = new FieldReader(source).Map("bios_strings");
        var current = new FieldReader(await pool.VmFieldsAsync(vm).ConfigureAwait(false)).Map("bios_strings");
        if (strings.Count > 0 && current.Count == 0)
        {
            await pool.SetBiosStringsAsync(vm, strings.Where(p => SettableBiosKeys.Contains(p.Key) && p.Value.Length > 0).ToDictionary())
                .ConfigureAwait(false);
        }
    }

    /// <summary>Equal as XAPI values: scalars by their text (a double that crossed JSON may come back a long), maps by
    /// their entries.</summary>
    private static bool Same(object? a, object? b)
        => a is IDictionary<string, object?> x && b is IDictionary<string, object?> y
            ? x.Count == y.Count && x.All(p => y.TryGetValue(p.Key, out var v) && Text(p.Value) == Text(v))
            : Text(a) == Text(b);

    private static string Text(object? value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
