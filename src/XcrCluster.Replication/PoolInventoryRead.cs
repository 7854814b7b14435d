using XcrCluster.Domain;
using XcrCluster.Domain.Pools;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>Reads of a pool's disks and inventory.</summary>
public sealed partial class Pool
{
    /// <summary>A VM's disk VBDs with their VDIs, in userdevice order.</summary>
    public async Task<IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)>> DisksAsync(VmRecord vm)
    {
        var disks = new List<(VbdRecord, VdiRecord)>();
        foreach (var vbdRef in vm.Vbds)
        {
            var vbd = await RecordAsync<VbdRecord>(vbdRef).ConfigureAwait(false);
            if (vbd.IsDisk)
            {
                disks.Add((vbd, await VdiAsync(vbd.Vdi).ConfigureAwait(false)));
            }
        }

        return ByUserdevice(disks);
    }

    /// <summary>The pool as an inventory: its SRs, and its VMs (no templates, snapshots or control domains) with their disks,
    /// in one get_all_records per class, sorted by name.</summary>
    public async Task<PoolInventory> InventoryAsync(CancellationToken ct = default)
    {
        var srsRead = AllAsync<SrRecord>(ct);
        var vmsRead = AllAsync<VmRecord>(ct);
        var vbdsRead = AllAsync<VbdRecord>(ct);
        var vdisRead = AllAsync<VdiRecord>(ct);
        await Task.WhenAll(srsRead, vmsRead, vbdsRead, vdisRead).ConfigureAwait(false);
        var srs = await srsRead.ConfigureAwait(false);
        var vdis = (await vdisRead.ConfigureAwait(false)).ToDictionary(v => v.Ref, StringComparer.Ordinal);
        var srUuids = srs.ToDictionary(s => s.Ref, s => s.Uuid, StringComparer.Ordinal);
        var disksOf = (await vbdsRead.ConfigureAwait(false)).Where(v => v.IsDisk && vdis.ContainsKey(v.Vdi))
            .ToLookup(v => v.Vm, v => (Vbd: v, Vdi: vdis[v.Vdi]), StringComparer.Ordinal);
        var vms = (await vmsRead.ConfigureAwait(false)).Where(vm => !vm.IsATemplate && !vm.IsASnapshot && !vm.IsControlDomain)
            .Select(vm => new VmInfo(
            vm.Uuid, vm.NameLabel, vm.PowerState, vm.Tags,
            [.. ByUserdevice(disksOf[vm.Ref]).Select(
                d => new DiskInfo(d.Vdi.Uuid, d.Vdi.NameLabel, d.Vdi.VirtualSize, srUuids.GetValueOrDefault(d.Vdi.Sr, "")))],
            VmInfo.IsReplicaRecord(vm.OtherConfig, vm.BlockedOperations.Keys, vm.Tags),
            vm.OtherConfig.GetValueOrDefault(XoMetadata.Job),
            vm.BlockedOperations.ContainsKey("start")));
        return new PoolInventory(
            Name,
            [.. srs.Select(s => new SrInfo(s.Uuid, s.NameLabel, s.Type, s.Shared, s.PhysicalSize, s.PhysicalUtilisation))
                .OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Uuid, StringComparer.Ordinal)],
            [.. vms.OrderBy(v => v.Name, StringComparer.Ordinal).ThenBy(v => v.Uuid, StringComparer.Ordinal)],
            DateTimeOffset.UtcNow);
    }

    private static List<(VbdRecord Vbd, VdiRecord Vdi)> ByUserdevice(IEnumerable<(VbdRecord Vbd, VdiRecord Vdi)> disks)
        => disks.OrderBy(d => int.TryParse(d.Vbd.Userdevice, out var u) ? u : int.MaxValue).ToList();
}
