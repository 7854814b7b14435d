using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>The source snapshot's settings on the replica (memory atomically, CPUs, boot, name, tags), as Xen
/// Orchestra's update mode does (docs/xen-orchestra.md §10); HA is switched off on a replica.</summary>
public static class ReplicaSettings
{
    public static async Task ApplyAsync(Pool pool, VmRecord vm, VmRecord snapshot)
    {
        await pool.SetMemoryLimitsAsync(vm.Ref, snapshot.MemoryStaticMin, snapshot.MemoryStaticMax, snapshot.MemoryDynamicMin,
            snapshot.MemoryDynamicMax)
            .ConfigureAwait(false);
        await pool.SetVcpusMaxAsync(vm.Ref, snapshot.VcpusMax).ConfigureAwait(false);
        await pool.SetVcpusAtStartupAsync(vm.Ref, snapshot.VcpusAtStartup).ConfigureAwait(false);
        await pool.SetVmNameLabelAsync(vm.Ref, snapshot.NameLabel).ConfigureAwait(false);
        await pool.SetPlatformAsync(vm.Ref, snapshot.Platform).ConfigureAwait(false);
        await pool.SetHvmBootPolicyAsync(vm.Ref, snapshot.HvmBootPolicy).ConfigureAwait(false);
        await pool.SetHvmBootParamsAsync(vm.Ref, snapshot.HvmBootParams).ConfigureAwait(false);
        var tags = snapshot.Tags.Append(XoMetadata.ReplicaTag).Distinct().ToList();
        var ha = await pool.HaRestartPriorityAsync(vm.Ref).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(ha))
        {
            await pool.SetHaRestartPriorityAsync(vm.Ref, "").ConfigureAwait(false);
            tags.Add(XoMetadata.HaDisabledTag);
        }

        await pool.SetTagsAsync(vm.Ref, tags.Distinct()).ConfigureAwait(false);
        await pool.SetVmOtherConfigAsync(vm.Ref, new Dictionary<string, string?> { ["auto_poweron"] = null }).ConfigureAwait(false);
    }
}
