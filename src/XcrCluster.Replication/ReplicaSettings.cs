using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>The source snapshot's settings on the replica (memory atomically, CPUs, boot, name, tags), as Xen
/// Orchestra's update mode does (docs/xen-orchestra.md §10); HA is switched off on a replica.</summary>
public static class ReplicaSettings
{
    public static async Task ApplyAsync(Pool pool, VmRecord vm, VmRecord snapshot)
    {
        var c = pool.Client;
        await c.CallAsync("VM.set_memory_limits", vm.Ref, snapshot.MemoryStaticMin, snapshot.MemoryStaticMax, snapshot.MemoryDynamicMin,
            snapshot.MemoryDynamicMax)
            .ConfigureAwait(false);
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
        await pool.SetOtherConfigAsync("VM", vm.Ref, new Dictionary<string, string?> { ["auto_poweron"] = null }).ConfigureAwait(false);
    }

    private static Dictionary<string, object?> ToMap(IReadOnlyDictionary<string, string> map)
        => map.ToDictionary(p => p.Key, p => (object?)p.Value);
}
