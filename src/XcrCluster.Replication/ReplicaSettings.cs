using System.Globalization;
using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>The source snapshot's settings on the replica (memory atomically, CPUs, boot, name, tags), as Xen
/// Orchestra's update mode does (docs/xen-orchestra.md §10); HA is switched off on a replica. The source VM's boot order
/// and start delay come with the snapshot under our own keys: XAPI resets <c>order</c> and <c>start_delay</c> on snapshot,
/// clone and copy (<c>copy_vm_record</c> in ocaml/xapi/xapi_vm_clone.ml), so the snapshot's own fields are always 0.</summary>
public static class ReplicaSettings
{
    /// <summary>On a source snapshot: the source VM's <c>order</c> and <c>start_delay</c> when it was taken.</summary>
    public const string OrderKey = "xcr:order";
    public const string StartDelayKey = "xcr:start-delay";

    /// <summary>The source VM's boot order and start delay as the snapshot carries them.</summary>
    public static Dictionary<string, string?> BootOrderKeys(VmRecord vm) => new()
    {
        [OrderKey] = vm.Order.ToString(CultureInfo.InvariantCulture),
        [StartDelayKey] = vm.StartDelay.ToString(CultureInfo.InvariantCulture),
    };

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
        if (Long(snapshot, OrderKey) is { } order && Long(snapshot, StartDelayKey) is { } delay)
        {
            await pool.SetBootOrderAsync(vm.Ref, order, delay).ConfigureAwait(false);
        }
    }

    /// <summary>A snapshot without our keys (taken by Xen Orchestra, or before they existed) leaves the replica's as they are.</summary>
    private static long? Long(VmRecord snapshot, string key)
        => long.TryParse(snapshot.OtherConfig.GetValueOrDefault(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value : null;
}
