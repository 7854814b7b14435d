using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// The replica's VIFs follow the source snapshot's on every run (spec §2.10 step 4): one per source VIF, same device,
/// MAC and MTU, on the network <see cref="NetworkMapping.Choose"/> picks now (so a change of the job's mapping moves it).
/// Xen Orchestra destroys all and recreates them; here a VIF that already matches is kept and only the others are
/// replaced or removed, so a run without a change touches no VIF. VIFs made by a run carry its marker (as VIF.create
/// writes it, from the first call); like the other settings, a commit rolled back does not undo them: the next run
/// converges again. Only a halted replica still start-blocked by replication is updated in place
/// (<see cref="TargetReplica"/>): a replica a failover started is never touched.
/// </summary>
internal static class ReplicaVifs
{
    public static async Task SyncAsync(Pool pool, string vm, string marker, IReadOnlyList<SourceVif> vifs,
        IReadOnlyDictionary<string, string>? mapping)
    {
        var networks = await pool.NetworksAsync().ConfigureAwait(false);
        var wanted = vifs.Select(v => (Vif: v, Network: NetworkMapping.Choose(v.Network, networks, mapping))).ToList();
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var vifRef in (await pool.VmAsync(vm).ConfigureAwait(false)).Vifs)
        {
            var current = await pool.VifAsync(vifRef).ConfigureAwait(false);
            if (wanted.Any(w => Matches(current, w.Vif, w.Network)) && kept.Add(current.Device))
            {
                continue;
            }

            await pool.DestroyVifAsync(current.Ref).ConfigureAwait(false); // gone from the source, or changed
        }

        // XAPI refuses a second VIF on a device (DEVICE_ALREADY_EXISTS): the replaced ones went first.
        foreach (var (vif, network) in wanted.Where(w => !kept.Contains(w.Vif.Record.Device)))
        {
            await pool.CreateVifAsync(new Dictionary<string, object?>
            {
                ["VM"] = vm, ["network"] = network.Ref, ["device"] = vif.Record.Device, ["MAC"] = vif.Record.Mac, ["MTU"] = vif.Record.Mtu,
                ["other_config"] = OtherConfig(vif, marker), ["qos_algorithm_type"] = "",
                ["qos_algorithm_params"] = new Dictionary<string, object?>(), ["locking_mode"] = vif.Record.LockingMode,
            }).ConfigureAwait(false);
        }
    }

    private static bool Matches(VifRecord current, SourceVif source, NetworkInfo network)
        => current.Device == source.Record.Device && current.Mac == source.Record.Mac && current.Mtu == source.Record.Mtu
            && current.Network == network.Ref && current.LockingMode == source.Record.LockingMode
            && current.OtherConfig.GetValueOrDefault(Recovery.FailoverNetworks.SourceNetworkKey) == source.Network?.Uuid;

    /// <summary>The run's marker, and the source network the VIF stands for: a failover applies the job's network mapping
    /// as it is then (<see cref="Recovery.FailoverNetworks"/>); VM.snapshot and VM.clone copy a VIF's other_config to the
    /// restore point and the clone (<c>copy</c> in ocaml/xapi/xapi_vif_helpers.ml).</summary>
    private static Dictionary<string, object?> OtherConfig(SourceVif vif, string marker)
    {
        var otherConfig = new Dictionary<string, object?> { [RunScope.ImportingKey] = marker };
        if (vif.Network is { } network)
        {
            otherConfig[Recovery.FailoverNetworks.SourceNetworkKey] = network.Uuid;
        }

        return otherConfig;
    }
}
