using XcrCluster.Domain;
using XcrCluster.Domain.Recovery;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// What both halves of `xcr seed` share on their pool: reading a side (<see cref="ReadAsync"/>, no change), re-reading it
/// before a write (refused when it is no longer what the API node validated), and putting other_config back as it was
/// (<see cref="RestoreAsync"/>) when a later step fails.
/// </summary>
public static class SeedSide
{
    public static async Task<RecoveryVmOutcome> ReadAsync(Pool pool, ReadSeedSide step, CancellationToken ct)
    {
        var log = new RecoveryLog(step.Vm);
        try
        {
            var (view, _, _) = await log.StepAsync($"read {step.Uuid} on pool {pool.Name}", () => ViewAsync(pool, step.Uuid, ct))
                .ConfigureAwait(false);
            return log.Succeeded(null, new Dictionary<string, string> { [SeedView.DetailsKey] = view.ToJson() });
        }
        catch (Exception e)
        {
            return log.Failed(e);
        }
    }

    /// <summary>The side as the API node validates it, with its VM record and disks (userdevice order).</summary>
    public static async Task<(SeedView View, VmRecord Vm, IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)> Disks)> ViewAsync(Pool pool,
        string uuid, CancellationToken ct)
    {
        string vmRef;
        try
        {
            vmRef = await pool.VmRefAsync(uuid).ConfigureAwait(false);
        }
        catch (XapiException e) when (e.Code is "UUID_INVALID" or "HANDLE_INVALID")
        {
            throw new RecoveryRefusedException($"pool {pool.Name} has no VM or snapshot {uuid}");
        }

        var vm = await pool.VmAsync(vmRef).ConfigureAwait(false);
        var disks = await pool.DisksAsync(vm).ConfigureAwait(false);
        var srs = (await pool.AllAsync<SrRecord>(ct).ConfigureAwait(false)).ToDictionary(s => s.Ref, s => s.Uuid);
        var seedDisks = disks.Select(d => new SeedDisk(d.Vbd.Userdevice, d.Vdi.Uuid, d.Vdi.VirtualSize,
            srs.GetValueOrDefault(d.Vdi.Sr, ""),
            d.Vdi.Vbds.Count, d.Vdi.OtherConfig.ContainsKey(XoMetadata.CopyOf))).ToList();
        var of = vm.IsASnapshot ? await TryVmAsync(pool, vm.SnapshotOf).ConfigureAwait(false) : null;
        var view = new SeedView(vm.Uuid, vm.NameLabel, vm.IsASnapshot, vm.IsATemplate, vm.PowerState, DateTime(vm.SnapshotTime), seedDisks)
        {
            SnapshotOfUuid = of?.Uuid, SnapshotOfName = of?.NameLabel ?? "", SnapshotOfTags = of?.Tags ?? [],
            SnapshotOfPowerState = of?.PowerState ?? "", IsCopy = vm.OtherConfig.ContainsKey(XoMetadata.CopyOf),
        };
        return (view, vm, disks);
    }

    /// <summary>Re-reads a side just before writing it: refused when it changed since the API node validated it.</summary>
    public static async Task<(VmRecord Vm, IReadOnlyList<(VbdRecord Vbd, VdiRecord Vdi)> Disks)> RecheckAsync(Pool pool, SeedView expected,
        CancellationToken ct)
    {
        var (view, vm, disks) = await ViewAsync(pool, expected.Uuid, ct).ConfigureAwait(false);
        if (!view.SameAs(expected))
        {
            throw new RecoveryRefusedException($"{expected.Uuid} changed since it was checked (power state or disks): run xcr seed again");
        }

        return (vm, disks);
    }

    /// <summary>xo-cr-seed's datetime: the snapshot's snapshot_time as XAPI answers it, which is formatDateTime's shape.</summary>
    public static string DateTime(DateTime time)
        => XoMetadata.FormatDateTime(new DateTimeOffset(System.DateTime.SpecifyKind(time, DateTimeKind.Utc)));

    /// <summary>The current values of <paramref name="keys"/> (an absent key: null), to put back on failure.</summary>
    public static Dictionary<string, string?> Prior(IReadOnlyDictionary<string, string> otherConfig, IEnumerable<string> keys)
        => keys.Distinct().ToDictionary(k => k, k => otherConfig.GetValueOrDefault(k));

    public static async Task<RecoveryVmOutcome> UndoSourceAsync(Pool pool, UndoSeedSource step)
    {
        var log = new RecoveryLog(step.Vm);
        try
        {
            await log.StepAsync($"put back the metadata of snapshot {step.SnapshotUuid}", () => RestoreAsync(pool, step.Prior))
                .ConfigureAwait(false);
            return log.Succeeded();
        }
        catch (Exception e)
        {
            return log.Failed(e);
        }
    }

    /// <summary>Puts other_config keys, and a VM's name, start blocks and template flag when recorded, back as they were.</summary>
    public static async Task RestoreAsync(Pool pool, SeedPrior prior)
    {
        foreach (var (uuid, keys) in prior.Vms)
        {
            var vm = await pool.VmRefAsync(uuid).ConfigureAwait(false);
            await pool.SetVmOtherConfigAsync(vm, keys).ConfigureAwait(false);
            if (prior.NameLabel is { } name)
            {
                await pool.SetVmNameLabelAsync(vm, name).ConfigureAwait(false);
            }

            if (prior.BlockedOperations.Count > 0)
            {
                await pool.SetBlockedOperationsAsync(vm, prior.BlockedOperations).ConfigureAwait(false);
                await pool.UpdateAllowedOperationsAsync(vm).ConfigureAwait(false);
            }

            if (prior.WasATemplate)
            {
                await pool.SetIsATemplateAsync(vm, true).ConfigureAwait(false);
            }
        }

        foreach (var (uuid, keys) in prior.Vdis)
        {
            await pool.SetVdiOtherConfigAsync(await pool.VdiRefAsync(uuid).ConfigureAwait(false), keys).ConfigureAwait(false);
        }
    }

    private static async Task<VmRecord?> TryVmAsync(Pool pool, string @ref)
    {
        if (@ref == XapiValue.NullRef)
        {
            return null;
        }

        try
        {
            return await pool.VmAsync(@ref).ConfigureAwait(false);
        }
        catch (XapiException e) when (e.Code == "HANDLE_INVALID")
        {
            return null;
        }
    }
}
