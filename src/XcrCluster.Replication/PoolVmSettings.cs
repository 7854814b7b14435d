namespace XcrCluster.Replication;

/// <summary>A VM's settings: memory, CPUs, platform, boot and HA.</summary>
public sealed partial class Pool
{
    /// <summary>VM.set_memory_limits: the four limits in one call.</summary>
    public Task SetMemoryLimitsAsync(string vm, long staticMin, long staticMax, long dynamicMin, long dynamicMax)
        => Client.CallAsync("VM.set_memory_limits", vm, staticMin, staticMax, dynamicMin, dynamicMax);

    /// <summary>VM.set_VCPUs_max.</summary>
    public Task SetVcpusMaxAsync(string vm, long count) => Client.CallAsync("VM.set_VCPUs_max", vm, count);

    /// <summary>VM.set_VCPUs_at_startup.</summary>
    public Task SetVcpusAtStartupAsync(string vm, long count) => Client.CallAsync("VM.set_VCPUs_at_startup", vm, count);

    /// <summary>VM.set_platform: the whole platform map.</summary>
    public Task SetPlatformAsync(string vm, IReadOnlyDictionary<string, string> platform)
        => Client.CallAsync("VM.set_platform", vm, ToMap(platform));

    /// <summary>VM.set_HVM_boot_policy.</summary>
    public Task SetHvmBootPolicyAsync(string vm, string policy) => Client.CallAsync("VM.set_HVM_boot_policy", vm, policy);

    /// <summary>VM.set_HVM_boot_params: the whole map.</summary>
    public Task SetHvmBootParamsAsync(string vm, IReadOnlyDictionary<string, string> parameters)
        => Client.CallAsync("VM.set_HVM_boot_params", vm, ToMap(parameters));

    /// <summary>VM.get_ha_restart_priority ("" when HA does not restart the VM).</summary>
    public async Task<string?> HaRestartPriorityAsync(string vm)
        => (string?)await Client.CallAsync("VM.get_ha_restart_priority", vm).ConfigureAwait(false);

    /// <summary>VM.set_ha_restart_priority ("" switches HA off for the VM).</summary>
    public Task SetHaRestartPriorityAsync(string vm, string priority) => Client.CallAsync("VM.set_ha_restart_priority", vm, priority);

    private static Dictionary<string, object?> ToMap(IReadOnlyDictionary<string, string> map)
        => map.ToDictionary(p => p.Key, p => (object?)p.Value);
}
