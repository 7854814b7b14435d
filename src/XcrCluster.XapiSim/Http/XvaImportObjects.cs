using System.Globalization;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Wire;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// The objects PUT /import creates from ova.xml (ocaml/xapi/import.ml `handlers`, `VM.handle`, `VDI.handle`,
/// `VBD`, `VIF`, `Net`): cross-references checked first (IMPORT_ERROR_FAILED_TO_FIND_OBJECT), then the VDIs on
/// the target SR, the VM Halted with a new uuid, its VBDs and VIFs; networks matched by name_label, then bridge,
/// else created. Everything created is remembered so a failed import can be undone. Callers hold the database lock.
/// </summary>
internal sealed class XvaImportObjects
{
    private readonly List<XapiObject> created = [];

    public XapiObject Vm { get; private set; } = null!;

    /// <summary>The VDIs that carry data, by file id, in stream order (stream_vdi.ml `vdi_ordering`).</summary>
    public SortedDictionary<string, XapiObject> Disks { get; } = new(StringComparer.Ordinal);

    public static XvaImportObjects Create(SimPool pool, XapiObject sr, XapiObject task, List<Dictionary<string, object?>> objects,
        bool force)
    {
        var byId = objects.ToDictionary(o => (string)o["id"]!, o => (Class: (string)o["class"]!,
            Record: (Dictionary<string, object?>)o["snapshot"]!));
        Dictionary<string, object?> Find(string? id, string cls)
            => id is not null && byId.TryGetValue(id, out var o) && o.Class == cls ? o.Record
                : throw new XapiException("IMPORT_ERROR_FAILED_TO_FIND_OBJECT", id ?? "");
        List<(string Id, Dictionary<string, object?> Record)> Of(string cls)
            => byId.Where(p => p.Value.Class == cls).Select(p => (p.Key, p.Value.Record)).ToList();

        var vms = Of("VM");
        if (vms.Count != 1)
        {
            throw new XapiException("IMPORT_ERROR", $"expected one VM in ova.xml, found {vms.Count}");
        }

        // import.ml VDI.precheck, VBD.precheck, VIF.precheck.
        var vdis = Of("VDI")
            .Where(v => Find(v.Record.GetValueOrDefault("SR") as string, "SR").GetValueOrDefault("content_type") as string != "iso")
            .ToDictionary(v => v.Id, v => v.Record);
        foreach (var (_, vbd) in Of("VBD"))
        {
            Find(vbd.GetValueOrDefault("VM") as string, "VM");
            if (vbd.GetValueOrDefault("type") as string != "CD")
            {
                Find(vbd.GetValueOrDefault("VDI") as string, "VDI");
            }
        }

        foreach (var (_, vif) in Of("VIF"))
        {
            Find(vif.GetValueOrDefault("VM") as string, "VM");
            Find(vif.GetValueOrDefault("network") as string, "network");
        }

        var result = new XvaImportObjects();
        try
        {
            var records = byId.ToDictionary(p => p.Key, p => p.Value.Record);
            result.Build(pool, sr, task, vms[0].Record, vdis, Of("VBD"), Of("VIF"), records, force);
        }
        catch
        {
            result.Undo(pool);
            throw;
        }

        return result;
    }

    private void Build(SimPool pool, XapiObject sr, XapiObject task, Dictionary<string, object?> vm,
        Dictionary<string, Dictionary<string, object?>> vdis,
        List<(string Id, Dictionary<string, object?> Record)> vbds, List<(string Id, Dictionary<string, object?> Record)> vifs,
        Dictionary<string, Dictionary<string, object?>> all, bool force)
    {
        var db = pool.Db;
        var vdiRows = new Dictionary<string, XapiObject>();
        foreach (var (id, record) in vdis)
        {
            // import.ml VDI.handle: these fields from the file, sm_config plus import_task, on sr_id.
            var fields = Pick(record, "name_label", "name_description", "virtual_size", "type", "sharable", "read_only",
                "other_config", "xenstore_data", "tags", "sm_config");
            fields["SR"] = sr.Ref;
            var smConfig = fields.GetValueOrDefault("sm_config") as Dictionary<string, object?> ?? [];
            smConfig.Remove(Vdis.VhdParent);
            smConfig["import_task"] = task.Ref;
            fields["sm_config"] = smConfig;
            var row = Vdis.Create(pool, fields);
            created.Add(row);
            vdiRows[id] = row;
        }

        Vm = db.Create(Schemas.Vm, VmFields(vm, task, force));
        created.Add(Vm);
        foreach (var (_, vbd) in vbds)
        {
            var isCd = vbd.GetValueOrDefault("type") as string == "CD";
            var vdi = vbd.GetValueOrDefault("VDI") as string is { } v && vdiRows.TryGetValue(v, out var r) ? r : null;
            if (vdi is null && !isCd)
            {
                continue;
            }

            var fields = Pick(vbd, "userdevice", "type", "mode", "bootable", "unpluggable", "other_config");
            fields["device"] = "";
            fields["VM"] = Vm.Ref;
            fields["VDI"] = vdi?.Ref ?? XapiValue.NullRef;
            fields["empty"] = vdi is null;
            created.Add(db.Create(Schemas.Vbd, fields));
            if (vdi is not null && !isCd)
            {
                Disks[vdiRows.First(p => p.Value == vdi).Key] = vdi;
            }
        }

        foreach (var (_, vif) in vifs)
        {
            var fields = Pick(vif, "device", "MTU", "other_config");
            fields["VM"] = Vm.Ref;
            fields["network"] = Network(pool, all[(string)vif["network"]!], task).Ref;
            // import.ml VIF: the MAC is regenerated unless restore.
            fields["MAC"] = Vdis.NewMac();
            fields["MAC_autogenerated"] = true;
            created.Add(db.Create(Schemas.Vif, fields));
        }
    }

    /// <summary>import.ml VM.handle: a new uuid, Halted, version 0, mac_seed and import_task in other_config;
    /// is_default_template and other_config.default_template dropped unless force; references not carried.</summary>
    private static Dictionary<string, object?> VmFields(Dictionary<string, object?> vm, XapiObject task, bool force)
    {
        var fields = new Dictionary<string, object?>();
        foreach (var field in Schemas.Vm.Fields.Where(f => !f.IsComputed && f.Kind != FieldKind.Ref && f.Name != "uuid"))
        {
            if (vm.TryGetValue(field.Name, out var value))
            {
                try
                {
                    fields[field.Name] = field.Coerce(value);
                }
                catch (XapiException)
                {
                    // A value of the wrong type: the field keeps its default.
                }
            }
        }

        fields["power_state"] = "Halted";
        fields["version"] = 0L;
        fields["current_operations"] = new Dictionary<string, object?>();
        fields["allowed_operations"] = new List<object?>();
        var otherConfig = fields.GetValueOrDefault("other_config") as Dictionary<string, object?> ?? [];
        if (!force)
        {
            fields["is_default_template"] = false;
            otherConfig.Remove("default_template");
        }

        otherConfig["mac_seed"] = Guid.NewGuid().ToString();
        otherConfig["import_task"] = task.Ref;
        fields["other_config"] = otherConfig;
        var template = fields.GetValueOrDefault("is_a_template") as bool? ?? false;
        if (!template && fields.GetValueOrDefault("generation_id") is string { Length: > 0 })
        {
            fields["generation_id"] = $"{Random.Shared.NextInt64(long.MaxValue)}:{Random.Shared.NextInt64(long.MaxValue)}";
        }

        return fields;
    }

    private XapiObject Network(SimPool pool, Dictionary<string, object?> network, XapiObject task)
    {
        var db = pool.Db;
        var name = network.GetValueOrDefault("name_label") as string ?? "";
        var bridge = network.GetValueOrDefault("bridge") as string ?? "";
        var existing = db.Where(Schemas.Network, "name_label", name).FirstOrDefault()
            ?? db.Where(Schemas.Network, "bridge", bridge).FirstOrDefault();
        if (existing is not null)
        {
            return existing;
        }

        var fields = Pick(network, "name_label", "name_description", "bridge", "MTU", "other_config");
        var otherConfig = fields.GetValueOrDefault("other_config") as Dictionary<string, object?> ?? [];
        otherConfig["import_task"] = task.Ref;
        fields["other_config"] = otherConfig;
        var row = db.Create(Schemas.Network, fields);
        created.Add(row);
        return row;
    }

    /// <summary>importexport.ml `version_of_rpc`, `assert_compatible`: xapi_major and xapi_minor must be there, and no
    /// newer than this host's, else IMPORT_INCOMPATIBLE_VERSION (no parameters: ocaml/idl/datamodel_errors.ml).</summary>
    public static void CheckVersion(XapiVersion host, Dictionary<string, object?> document)
    {
        var version = document.GetValueOrDefault("version") as Dictionary<string, object?>
            ?? throw new XapiException("IMPORT_ERROR", "Failed to find key 'version' in ova.xml");
        long Key(string name) => version.TryGetValue(name, out var v) && long.TryParse(Convert.ToString(v, CultureInfo.InvariantCulture),
            out var n) ? n : throw new XapiException("IMPORT_ERROR", $"Failed to find key '{name}' in version data");
        var (major, minor) = (Key("xapi_major"), Key("xapi_minor"));
        if (host.Major < major || (host.Major == major && host.Minor < minor))
        {
            throw new XapiException("IMPORT_INCOMPATIBLE_VERSION");
        }
    }

    private static Dictionary<string, object?> Pick(Dictionary<string, object?> record, params string[] names)
        => names.Where(record.ContainsKey).ToDictionary(n => n, n => record[n]);

    /// <summary>Destroys what this import created, newest first (import.ml `cleanup`).</summary>
    public void Undo(SimPool pool)
    {
        for (var i = created.Count - 1; i >= 0; i--)
        {
            var row = created[i];
            if (!pool.Db.TryGet(row.Ref, out _))
            {
                continue;
            }

            if (row.Schema == Schemas.Vdi)
            {
                Vdis.Destroy(pool, row);
            }
            else
            {
                pool.Db.Delete(row);
            }
        }
    }
}
