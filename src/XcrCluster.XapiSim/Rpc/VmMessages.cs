using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>
/// VM lifecycle and copies, with XAPI's semantics (xapi_vm_clone.ml; the new record in <see cref="VmCopies"/>):
/// a snapshot is a halted template with is_a_snapshot, snapshot_of, the same MACs and snapshot VDIs; a clone or
/// copy is a VM with new MACs. Power operations are in <see cref="VmPower"/>.
/// </summary>
internal static class VmMessages
{
    public static void Register(MethodTable table, XapiVersion version)
    {
        table.Add("VM.create", 1, call =>
        {
            var record = DeviceMessages.Known(Schemas.Vm, call.Args.Map(0));
            record["power_state"] = "Halted";
            return call.Db.Create(Schemas.Vm, record).Ref;
        });
        // ignore_vdis exists from xapi 21.4.0; before, a 3rd parameter is a MESSAGE_PARAMETER_COUNT_MISMATCH.
        table.Add("VM.snapshot", 2, Snapshot, optional: version >= XapiVersion.SnapshotIgnoreVdis ? 1 : 0);
        table.Add("VM.clone", 2, call => Copy(call, "clone", full: false, srRef: null));
        table.Add("VM.copy", 3, call => Copy(call, "copy", full: true, srRef: call.Args.String(2)));
        table.Add("VM.destroy", 1, Destroy);
        table.Add("VM.start", 3, VmPower.Start);
        table.Add("VM.clean_shutdown", 1, call => VmPower.Shutdown(call, "clean_shutdown"));
        table.Add("VM.hard_shutdown", 1, call => VmPower.Shutdown(call, "hard_shutdown"));
        table.Add("VM.set_memory_limits", 5, call =>
        {
            var vm = call.Get(Schemas.Vm, 0);
            string[] fields = ["memory_static_min", "memory_static_max", "memory_dynamic_min", "memory_dynamic_max"];
            for (var i = 0; i < fields.Length; i++)
            {
                vm.Fields[fields[i]] = call.Args.Long(i + 1);
            }

            call.Db.Touch(vm);
            return "";
        });
        table.Add("VM.pool_migrate", 3, call =>
        {
            // Within one simulated pool: the VM moves to the host; its disks stay where they are (shared SRs).
            var vm = call.Get(Schemas.Vm, 0);
            CheckNotBlocked(vm, "pool_migrate");
            call.Db.Set(vm, "resident_on", call.Get(Schemas.Host, 1).Ref);
            return "";
        });
        table.Add("VM.update_allowed_operations", 1, call =>
        {
            call.Get(Schemas.Vm, 0);
            return "";
        });
        table.Add("VM.set_is_a_template", 2, call =>
        {
            call.Db.Set(call.Get(Schemas.Vm, 0), "is_a_template", call.Args.Bool(1));
            return "";
        });
    }

    private static object? Snapshot(Call call)
    {
        var vm = call.Get(Schemas.Vm, 0);
        CheckNotBlocked(vm, "snapshot");
        var ignored = call.Args.Has(2) ? call.Args.Set(2).OfType<string>().ToHashSet() : [];
        var fields = VmCopies.Record(call.Db, vm, call.Args.String(1), isSnapshot: true);
        var snapshot = call.Db.Create(Schemas.Vm, fields);
        CreateOrRollBack(call, snapshot,
            () => CopyDevices(call, vm, snapshot, vbd => ignored.Contains(vbd.Str("VDI")) ? null
            : Vdis.Snapshot(call.Pool, Vdi(call, vbd), isSnapshot: true), keepMacs: true));
        call.Db.Set(vm, "parent", snapshot.Ref);
        return snapshot.Ref;
    }

    private static object? Copy(Call call, string operation, bool full, string? srRef)
    {
        var vm = call.Get(Schemas.Vm, 0);
        CheckNotBlocked(vm, operation);
        if (!vm.Bool("is_a_snapshot") && vm.Str("power_state") != "Halted")
        {
            throw new XapiException("VM_BAD_POWER_STATE", vm.Ref, "halted", vm.Str("power_state").ToLowerInvariant());
        }

        var sr = srRef is null or XapiValue.NullRef ? null : call.Db.Get(Schemas.Sr, srRef);
        var fields = VmCopies.Record(call.Db, vm, call.Args.String(1), isSnapshot: false);
        var copy = call.Db.Create(Schemas.Vm, fields);
        CreateOrRollBack(call, copy,
            () => CopyDevices(call, vm, copy, vbd => full ? FullCopy(call, Vdi(call, vbd), sr)
            : Vdis.Snapshot(call.Pool, Vdi(call, vbd), isSnapshot: false), keepMacs: false));
        return copy.Ref;
    }

    /// <summary>Fills a new VM's devices; if that fails part way (a full SR), everything made so far goes with
    /// the VM row, so a failed snapshot or copy leaves nothing behind.</summary>
    private static void CreateOrRollBack(Call call, XapiObject created, Action fill)
    {
        try
        {
            fill();
        }
        catch
        {
            foreach (var vbd in call.Db.Where(Schemas.Vbd, "VM", created.Ref).ToList())
            {
                if (call.Db.TryGet(vbd.Str("VDI"), out var disk) && vbd.Str("type") == "Disk")
                {
                    Vdis.Destroy(call.Pool, disk);
                }
                else
                {
                    call.Db.Delete(vbd);
                }
            }

            var devices = call.Db.Where(Schemas.Vif, "VM", created.Ref).Concat(call.Db.Where(Schemas.Vtpm, "VM", created.Ref));
            foreach (var device in devices.ToList())
            {
                call.Db.Delete(device);
            }

            call.Db.Delete(created);
            throw;
        }
    }

    private static XapiObject FullCopy(Call call, XapiObject vdi, XapiObject? sr)
    {
        var target = sr ?? call.Db.Get(Schemas.Sr, vdi.Str("SR"));
        var source = call.Pool.StorageOfVdi(vdi);
        var chain = source.Chain(vdi.Str("location"));
        var blocks = BlockSelection.Full(chain, chain[0].BlockCount);
        Vdis.EnsureSpace(call.Pool, target, (long)blocks.Count * (Vhd.VhdConstants.DefaultBlockSize + 512));
        var record = new Dictionary<string, object?>
        {
            ["SR"] = target.Ref,
            ["virtual_size"] = vdi.Int("virtual_size"),
            ["name_label"] = vdi.Str("name_label"),
            ["name_description"] = vdi.Str("name_description"),
            ["type"] = vdi.Str("type"),
            ["other_config"] = new Dictionary<string, object?>(vdi.Map("other_config")),
            ["tags"] = vdi.Set("tags").ToList(),
        };
        var created = Vdis.Create(call.Pool, record);
        var size = created.Int("virtual_size");
        var targetStorage = call.Pool.StorageOf(target);
        using (var from = source.OpenContent(vdi.Str("location"), size))
        using (var to = targetStorage.BeginImport(created.Str("location"), size))
        {
            var buffer = new byte[to.BlockSize];
            foreach (var index in blocks)
            {
                var offset = (long)index * to.BlockSize;
                var span = buffer.AsSpan(0, (int)Math.Min(buffer.Length, size - offset));
                from.Read(offset, span);
                to.Write(offset, span);
            }

            to.Commit();
        }

        if (source.IsNull && targetStorage.IsNull)
        {
            // Null to null: the copy shows what the source showed (a null SR reads as zeros elsewhere).
            targetStorage.SetNullContent(created.Str("location"), source.NullContentOf(vdi.Str("location"), size));
        }

        Vdis.RefreshUsage(call.Pool, target, created);
        return created;
    }

    private static object? Destroy(Call call)
    {
        var vm = call.Get(Schemas.Vm, 0);
        CheckNotBlocked(vm, "destroy");
        if (vm.Str("power_state") != "Halted")
        {
            throw new XapiException("VM_BAD_POWER_STATE", vm.Ref, "halted", vm.Str("power_state").ToLowerInvariant());
        }

        foreach (var vbd in call.Db.Where(Schemas.Vbd, "VM", vm.Ref).ToList())
        {
            call.Db.Delete(vbd);
        }

        foreach (var vif in call.Db.Where(Schemas.Vif, "VM", vm.Ref).ToList())
        {
            call.Db.Delete(vif);
        }

        foreach (var vtpm in call.Db.Where(Schemas.Vtpm, "VM", vm.Ref).ToList())
        {
            // Not checked against XAPI's VM.destroy (the helpers read for this do not list vTPMs): the simulator keeps
            // no vTPM of a VM that no longer exists.
            call.Db.Delete(vtpm);
        }

        VmPower.DropGuestMetrics(call, vm);
        call.Db.Delete(vm);
        return "";
    }

    /// <summary>OPERATION_BLOCKED [vm, reason] when the operation is in blocked_operations.</summary>
    internal static void CheckNotBlocked(XapiObject vm, string operation)
    {
        if (vm.MapValue("blocked_operations", operation) is { } reason)
        {
            throw new XapiException("OPERATION_BLOCKED", vm.Ref, reason);
        }
    }

    private static XapiObject Vdi(Call call, XapiObject vbd) => call.Db.Get(Schemas.Vdi, vbd.Str("VDI"));

    /// <summary>Copies VBDs (disks through <paramref name="copyDisk"/>, which may return null to leave one out;
    /// CD drives as they are) and VIFs (same MACs for a snapshot, new ones otherwise).</summary>
    private static void CopyDevices(Call call, XapiObject from, XapiObject to, Func<XapiObject, XapiObject?> copyDisk, bool keepMacs)
    {
        foreach (var vbd in call.Db.Where(Schemas.Vbd, "VM", from.Ref).ToList())
        {
            var fields = DeviceMessages.Known(Schemas.Vbd, call.Db.Record(vbd));
            if (vbd.Str("type") == "Disk" && !vbd.Bool("empty"))
            {
                var disk = copyDisk(vbd);
                if (disk is null)
                {
                    continue;
                }

                fields["VDI"] = disk.Ref;
            }

            fields["VM"] = to.Ref;
            fields["currently_attached"] = false;
            call.Db.Create(Schemas.Vbd, fields);
        }

        VtpmMessages.Copy(call.Db, from, to);
        foreach (var vif in call.Db.Where(Schemas.Vif, "VM", from.Ref).ToList())
        {
            var fields = DeviceMessages.Known(Schemas.Vif, call.Db.Record(vif));
            fields["VM"] = to.Ref;
            fields["currently_attached"] = false;
            if (!keepMacs)
            {
                fields["MAC"] = Vdis.NewMac();
                fields["MAC_autogenerated"] = true;
            }

            call.Db.Create(Schemas.Vif, fields);
        }
    }
}
