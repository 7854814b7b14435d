using System.Globalization;
using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>The source snapshot's settings on the replica on every run (memory atomically, CPUs, name, platform, boot,
/// the other fields in <see cref="ReplicaFields"/>, BIOS strings on creation, VIFs in <see cref="ReplicaVifs"/>, vTPMs in
/// <see cref="ReplicaVtpms"/>, tags),
/// as Xen Orchestra's update mode does (docs/xen-orchestra.md §10, spec §2.10); HA is switched off on a replica. The
/// source VM's boot order, start and shutdown delays come with the snapshot under our own keys: XAPI resets
/// <c>order</c>, <c>start_delay</c> and <c>shutdown_delay</c> on snapshot, clone and copy (<c>copy_vm_record</c> in
/// ocaml/xapi/xapi_vm_clone.ml), so the snapshot's own fields are always 0.</summary>
public static class ReplicaSettings
{
    /// <summary>On a source snapshot: the source VM's <c>order</c> and <c>start_delay</c> when it was taken.</summary>
    public const string OrderKey = "xcr:order";
    public const string StartDelayKey = "xcr:start-delay";

    /// <summary>On a source snapshot: the source VM's <c>shutdown_delay</c>, which XAPI resets on snapshot too.</summary>
    public const string ShutdownDelayKey = "xcr:shutdown-delay";

    /// <summary>The source VM's boot order, start and shutdown delays as the snapshot carries them.</summary>
    public static Dictionary<string, string?> BootOrderKeys(VmRecord vm) => new()
    {
        [OrderKey] = vm.Order.ToString(CultureInfo.InvariantCulture),
        [StartDelayKey] = vm.StartDelay.ToString(CultureInfo.InvariantCulture),
        [ShutdownDelayKey] = vm.ShutdownDelay.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Refreshes the replica from the source snapshot, on a replica this run created and on one updated in place
    /// alike (local and remote targets run the same code with the same <see cref="TargetCommit"/>, the snapshot's whole
    /// record included). The description is set at the commit's end, with the run's size.</summary>
    public static async Task ApplyAsync(Pool pool, VmRecord vm, TargetCommit commit, bool created, string marker)
    {
        var snapshot = commit.Snapshot;
        var record = commit.SnapshotRecord;
        await pool.SetMemoryLimitsAsync(vm.Ref, snapshot.MemoryStaticMin, snapshot.MemoryStaticMax, snapshot.MemoryDynamicMin,
            snapshot.MemoryDynamicMax)
            .ConfigureAwait(false);
        await SetVcpusAsync(pool, vm, snapshot).ConfigureAwait(false);
        await pool.SetVmNameLabelAsync(vm.Ref, snapshot.NameLabel).ConfigureAwait(false);
        await pool.SetPlatformAsync(vm.Ref, snapshot.Platform).ConfigureAwait(false);
        await ReplicaFields.RefreshAsync(pool, vm.Ref, record).ConfigureAwait(false);
        await pool.SetHvmBootPolicyAsync(vm.Ref, snapshot.HvmBootPolicy).ConfigureAwait(false);
        await pool.SetHvmBootParamsAsync(vm.Ref, snapshot.HvmBootParams).ConfigureAwait(false);
        if (snapshot.DomainType is "hvm" or "pv" or "pv_in_pvh" or "pvh") // not "unspecified", which XAPI refuses
        {
            // XAPI derives each of domain_type and HVM_boot_policy from the other when either is set
            // (ocaml/xapi/xapi_vm_helpers.ml): the policy alone would turn a PVH domain into PV, so the type goes last.
            await pool.SetDomainTypeAsync(vm.Ref, snapshot.DomainType).ConfigureAwait(false);
        }
        if (created)
        {
            await ReplicaFields.SetBiosStringsAsync(pool, vm.Ref, record).ConfigureAwait(false);
        }

        await ReplicaVifs.SyncAsync(pool, vm.Ref, marker, commit.Vifs, commit.NetworkMapping).ConfigureAwait(false);
        await ReplicaVtpms.SyncAsync(pool, vm.Ref, commit.Vtpms).ConfigureAwait(false);
        var tags = snapshot.Tags.Append(XoMetadata.ReplicaTag).Distinct().ToList();
        if (await ProtectedAsync(pool, vm, record).ConfigureAwait(false))
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

        if (Long(snapshot, ShutdownDelayKey) is { } shutdownDelay)
        {
            await pool.SetShutdownDelayAsync(vm.Ref, shutdownDelay).ConfigureAwait(false);
        }
    }

    /// <summary>XAPI wants 0 &lt; VCPUs_at_startup &lt;= VCPUs_max after each call (<c>set_VCPUs_max</c> in
    /// ocaml/xapi/xapi_vm.ml): lowering, VCPUs_at_startup goes first; raising, VCPUs_max does.</summary>
    private static async Task SetVcpusAsync(Pool pool, VmRecord vm, VmRecord snapshot)
    {
        if (snapshot.VcpusMax < vm.VcpusAtStartup)
        {
            await pool.SetVcpusAtStartupAsync(vm.Ref, snapshot.VcpusAtStartup).ConfigureAwait(false);
            await pool.SetVcpusMaxAsync(vm.Ref, snapshot.VcpusMax).ConfigureAwait(false);
        }
        else
        {
            await pool.SetVcpusMaxAsync(vm.Ref, snapshot.VcpusMax).ConfigureAwait(false);
            await pool.SetVcpusAtStartupAsync(vm.Ref, snapshot.VcpusAtStartup).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether HA protects the source (or someone set a restart priority on the replica): the replica then gets
    /// ha_restart_priority '' and the tag "HA disabled", on every run (the source's priority, not the replica's
    /// already cleared one, decides). A replica must stay halted: it is never started by HA, so it keeps
    /// ha_always_run=false, as it was created. Xen Orchestra "restores" ha_always_run at the end of its import, but
    /// XAPI has ignored that field as a setting since Boston (<c>set_ha_always_run</c> in ocaml/xapi/xapi_vm.ml turns
    /// true into ha_restart_priority "restart", which only sets ha_always_run on a running VM), and Xen Orchestra then
    /// clears the priority: its replica also ends with ha_always_run=false and priority ''. Calling it would only make
    /// the replica protected between two calls (and may fail on an HA pool whose failover plan cannot take one VM more).
    /// </summary>
    private static async Task<bool> ProtectedAsync(Pool pool, VmRecord vm, IReadOnlyDictionary<string, object?> record)
    {
        var source = new FieldReader(record);
        return source.Str("ha_restart_priority").Length > 0 || source.Bool("ha_always_run")
            || !string.IsNullOrEmpty(await pool.HaRestartPriorityAsync(vm.Ref).ConfigureAwait(false));
    }

    /// <summary>A snapshot without our keys (taken by Xen Orchestra, or before they existed) leaves the replica's as they are.</summary>
    private static long? Long(VmRecord snapshot, string key)
        => long.TryParse(snapshot.OtherConfig.GetValueOrDefault(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value : null;
}
