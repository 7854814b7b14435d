using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>The job's network mapping as it is at failover: a replica's VIFs were placed when the replica was made (by
/// the mapping then, <see cref="NetworkMapping.Choose"/>); a VIF whose source network the mapping now sends elsewhere is
/// moved before the VM starts — destroyed and made again on the mapped network with the same device, MAC and settings (a
/// VIF's network cannot be changed in place on a halted VM). The source network is the one the replication wrote on the
/// VIF (<see cref="SourceNetworkKey"/>), which restore points and clones keep (XAPI copies a VIF's other_config,
/// <c>copy</c> in ocaml/xapi/xapi_vif_helpers.ml): at failover the source pool may be gone. A VIF without it (a replica made
/// before the key, or by Xen Orchestra) stays where it is.</summary>
public static class FailoverNetworks
{
    /// <summary>On a replica's VIF: the uuid of the source VIF's network.</summary>
    public const string SourceNetworkKey = "xcr:source-network";

    /// <summary>A VIF to move: from the network it is on to the one the mapping names.</summary>
    public sealed record Move(VifRecord Vif, string FromUuid, NetworkInfo To)
    {
        public override string ToString() => $"VIF {Vif.Device} (MAC {Vif.Mac}) from network {FromUuid} to {To.Uuid} ({To.Name})";
    }

    /// <summary>The VIFs of <paramref name="vm"/> off their mapped network; refused when the mapping names a network this
    /// pool does not have (checked before any change).</summary>
    public static async Task<IReadOnlyList<Move>> PlanAsync(Pool pool, VmRecord vm, IReadOnlyDictionary<string, string>? mapping)
    {
        if (mapping is not { Count: > 0 } || vm.Vifs.Count == 0)
        {
            return [];
        }

        var networks = await pool.NetworksAsync().ConfigureAwait(false);
        var moves = new List<Move>();
        foreach (var vifRef in vm.Vifs)
        {
            var vif = await pool.VifAsync(vifRef).ConfigureAwait(false);
            if (vif.OtherConfig.GetValueOrDefault(SourceNetworkKey) is not { } source
                || mapping.GetValueOrDefault(source) is not { } wanted)
            {
                continue; // not replicated by us, or a source network the mapping leaves to the default choice
            }

            var to = networks.FirstOrDefault(n => n.Uuid == wanted)
                ?? throw new RecoveryRefusedException(
                    $"the job's network mapping sends network {source} to {wanted}, a network this pool does not have");
            var from = networks.FirstOrDefault(n => n.Ref == vif.Network)?.Uuid ?? vif.Network;
            if (from != wanted)
            {
                moves.Add(new Move(vif, from, to));
            }
        }

        return moves.OrderBy(m => m.Vif.Device, StringComparer.Ordinal).ToList();
    }

    /// <summary>Moves the VIFs of a halted VM this command owns or starts (a clone, or a replica leaving its chain), one task
    /// line each.</summary>
    public static async Task ApplyAsync(Pool pool, string vmRef, IReadOnlyDictionary<string, string>? mapping, RecoveryLog log)
    {
        var vm = await pool.VmAsync(vmRef).ConfigureAwait(false);
        foreach (var move in await PlanAsync(pool, vm, mapping).ConfigureAwait(false))
        {
            await log.StepAsync($"move {move}", async () =>
            {
                var vif = move.Vif;
                await pool.DestroyVifAsync(vif.Ref).ConfigureAwait(false);
                await pool.CreateVifAsync(new Dictionary<string, object?>
                {
                    ["VM"] = vm.Ref, ["network"] = move.To.Ref, ["device"] = vif.Device, ["MAC"] = vif.Mac, ["MTU"] = vif.Mtu,
                    ["other_config"] = vif.OtherConfig.ToDictionary(p => p.Key, object? (p) => p.Value), ["qos_algorithm_type"] = "",
                    ["qos_algorithm_params"] = new Dictionary<string, object?>(), ["locking_mode"] = vif.LockingMode,
                }).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
    }
}
