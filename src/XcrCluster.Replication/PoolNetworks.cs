using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>A pool's networks and VIFs.</summary>
public sealed partial class Pool
{
    /// <summary>The pool's networks with their VLAN (first PIF) and whether they carry the management interface.</summary>
    public async Task<IReadOnlyList<NetworkInfo>> NetworksAsync()
    {
        var pifs = await AllAsync<PifRecord>().ConfigureAwait(false);
        return (await AllAsync<NetworkRecord>().ConfigureAwait(false)).Select(n =>
        {
            var own = pifs.Where(p => p.Network == n.Ref).ToList();
            return new NetworkInfo(n.Ref, n.Uuid, n.NameLabel, own.Count > 0 ? own[0].Vlan : null, own.Any(p => p.Management));
        }).ToList();
    }

    /// <summary>A VIF's record (VIF.get_record).</summary>
    public Task<VifRecord> VifAsync(string vif) => RecordAsync<VifRecord>(vif);

    /// <summary>VIF.create with XAPI's constructor fields (VM, network, device, MAC, MTU, other_config, …); returns its ref.</summary>
    public async Task<string> CreateVifAsync(Dictionary<string, object?> record)
        => (string)(await Client.CallAsync("VIF.create", record).ConfigureAwait(false))!;

    /// <summary>VIF.destroy: the VM loses that network interface.</summary>
    public Task DestroyVifAsync(string vif) => Client.CallAsync("VIF.destroy", vif);
}
