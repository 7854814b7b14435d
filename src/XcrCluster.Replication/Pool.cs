using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>The XAPI calls a run makes on one pool, over the product's client, with Xen Orchestra's conventions
/// for other_config (a key the map holds removed then added, so writes are idempotent). One typed method per operation, split by
/// XAPI class: VMs (PoolVms.cs, PoolVmSettings.cs), disks (PoolDisks.cs: VDI and VBD), VIFs and networks
/// (PoolNetworks.cs), the inventory (PoolInventoryRead.cs). XAPI method names appear only in these files.</summary>
public sealed partial class Pool(XapiClient client)
{
    public XapiClient Client { get; } = client;

    /// <summary>The pool's registered name: the key of its slots at the gate.</summary>
    public string Name { get; init; } = "";

    /// <summary>Where this pool's snapshot and transfer slots come from (its pool agent); open by default.</summary>
    public IPoolGate Gate { get; init; } = OpenGate.Instance;

    public Task<VmRecord> VmAsync(string @ref) => RecordAsync<VmRecord>(@ref);

    public Task<VdiRecord> VdiAsync(string @ref) => RecordAsync<VdiRecord>(@ref);

    public async Task<string> VmRefAsync(string uuid) => await Client.GetRefByUuidAsync<VmRecord>(uuid).ConfigureAwait(false);

    /// <summary>A VDI's ref from its uuid (VDI.get_by_uuid).</summary>
    public Task<string> VdiRefAsync(string uuid, CancellationToken ct = default) => Client.GetRefByUuidAsync<VdiRecord>(uuid, ct);

    /// <summary>An SR's ref from its uuid (SR.get_by_uuid).</summary>
    public Task<string> SrRefAsync(string uuid, CancellationToken ct = default) => Client.GetRefByUuidAsync<SrRecord>(uuid, ct);

    /// <summary>Entries of an object's other_config (a null value removes the key); <paramref name="cls"/> is the XAPI
    /// class. The engine uses the typed <see cref="SetVmOtherConfigAsync"/> and <see cref="SetVdiOtherConfigAsync"/>.</summary>
    public Task SetOtherConfigAsync(string cls, string @ref, IReadOnlyDictionary<string, string?> entries)
        => Client.SetMapEntriesAsync(cls, @ref, "other_config", entries);

    /// <summary>Entries of any map field (a null value removes the key).</summary>
    public Task SetMapAsync(string cls, string @ref, string field, IReadOnlyDictionary<string, string?> entries)
        => Client.SetMapEntriesAsync(cls, @ref, field, entries);

    /// <summary>Entries of a VM's other_config (a null value removes the key): see <see cref="XapiClient.SetMapEntriesAsync"/>.</summary>
    public Task SetVmOtherConfigAsync(string vm, IReadOnlyDictionary<string, string?> entries)
        => SetOtherConfigAsync("VM", vm, entries);

    /// <summary>Entries of a VDI's other_config (a null value removes the key): see <see cref="XapiClient.SetMapEntriesAsync"/>.</summary>
    public Task SetVdiOtherConfigAsync(string vdi, IReadOnlyDictionary<string, string?> entries)
        => SetOtherConfigAsync("VDI", vdi, entries);

    /// <summary>Entries of a VM's blocked_operations (operation → reason; a null reason unblocks it).</summary>
    public Task SetBlockedOperationsAsync(string vm, IReadOnlyDictionary<string, string?> entries)
        => SetMapAsync("VM", vm, "blocked_operations", entries);
}
