namespace XcrCluster.Replication;

/// <summary>A VM's other settings a replica takes from its source: actions, boot, PV, delays, versions, CPU parameters,
/// xenstore data and BIOS strings (each XAPI's own setter).</summary>
public sealed partial class Pool
{
    /// <summary>VM.set_actions_after_shutdown ("destroy", "restart").</summary>
    public Task SetActionsAfterShutdownAsync(string vm, string value) => Client.CallAsync("VM.set_actions_after_shutdown", vm, value);

    /// <summary>VM.set_actions_after_reboot ("destroy", "restart").</summary>
    public Task SetActionsAfterRebootAsync(string vm, string value) => Client.CallAsync("VM.set_actions_after_reboot", vm, value);

    /// <summary>VM.set_actions_after_crash ("destroy", "restart", "preserve", ...).</summary>
    public Task SetActionsAfterCrashAsync(string vm, string value) => Client.CallAsync("VM.set_actions_after_crash", vm, value);

    /// <summary>VM.set_domain_type ("hvm", "pv", "pv_in_pvh", "pvh"); XAPI derives HVM_boot_policy from it (and the
    /// other way round on VM.set_HVM_boot_policy).</summary>
    public Task SetDomainTypeAsync(string vm, string value) => Client.CallAsync("VM.set_domain_type", vm, value);

    /// <summary>VM.set_has_vendor_device (the Windows update device).</summary>
    public Task SetHasVendorDeviceAsync(string vm, bool value) => Client.CallAsync("VM.set_has_vendor_device", vm, value);

    /// <summary>VM.set_HVM_shadow_multiplier (a float: an integral value must still go as a double).</summary>
    public Task SetHvmShadowMultiplierAsync(string vm, double value) => Client.CallAsync("VM.set_HVM_shadow_multiplier", vm, value);

    /// <summary>VM.set_PV_bootloader.</summary>
    public Task SetPvBootloaderAsync(string vm, string value) => Client.CallAsync("VM.set_PV_bootloader", vm, value);

    /// <summary>VM.set_PV_kernel.</summary>
    public Task SetPvKernelAsync(string vm, string value) => Client.CallAsync("VM.set_PV_kernel", vm, value);

    /// <summary>VM.set_PV_ramdisk.</summary>
    public Task SetPvRamdiskAsync(string vm, string value) => Client.CallAsync("VM.set_PV_ramdisk", vm, value);

    /// <summary>VM.set_PV_args.</summary>
    public Task SetPvArgsAsync(string vm, string value) => Client.CallAsync("VM.set_PV_args", vm, value);

    /// <summary>VM.set_PV_bootloader_args.</summary>
    public Task SetPvBootloaderArgsAsync(string vm, string value) => Client.CallAsync("VM.set_PV_bootloader_args", vm, value);

    /// <summary>VM.set_PV_legacy_args.</summary>
    public Task SetPvLegacyArgsAsync(string vm, string value) => Client.CallAsync("VM.set_PV_legacy_args", vm, value);

    /// <summary>VM.set_recommendations (the template's XML hints).</summary>
    public Task SetRecommendationsAsync(string vm, string value) => Client.CallAsync("VM.set_recommendations", vm, value);

    /// <summary>VM.set_shutdown_delay (seconds).</summary>
    public Task SetShutdownDelayAsync(string vm, long value) => Client.CallAsync("VM.set_shutdown_delay", vm, value);

    /// <summary>VM.set_user_version.</summary>
    public Task SetUserVersionAsync(string vm, long value) => Client.CallAsync("VM.set_user_version", vm, value);

    /// <summary>VM.set_VCPUs_params: the whole map (weight, cap, mask).</summary>
    public Task SetVcpusParamsAsync(string vm, IReadOnlyDictionary<string, string> value)
        => Client.CallAsync("VM.set_VCPUs_params", vm, ToMap(value));

    /// <summary>VM.set_xenstore_data: the whole map.</summary>
    public Task SetXenstoreDataAsync(string vm, IReadOnlyDictionary<string, string> value)
        => Client.CallAsync("VM.set_xenstore_data", vm, ToMap(value));

    /// <summary>VM.set_bios_strings: XAPI takes them only while the VM has none (VM_BIOS_STRINGS_ALREADY_SET after).</summary>
    public Task SetBiosStringsAsync(string vm, IReadOnlyDictionary<string, string> value)
        => Client.CallAsync("VM.set_bios_strings", vm, ToMap(value));
}
