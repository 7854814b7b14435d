using System.Text;
using XcrCluster.Xapi.Wire;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// ova.xml as GET /export writes it (ocaml/xapi/export.ml `make_all`, `vm_metadata`; ocaml/xapi/importexport.ml
/// `header`): Xmlrpc.to_string of struct {version, objects}, compact, no XML declaration. Objects are the VM, its
/// VBDs, VIFs, their networks, the VDIs of non-empty VBDs and their SRs, in export.ml's class order; each record
/// is the full get_record with every reference rewritten to an exported object's id or OpaqueRef:NULL.
/// </summary>
internal static class XvaOva
{
    /// <summary>export.ml `make_id`: ids come from a process-wide counter, not one per export.</summary>
    private static long nextId;

    public sealed record Disk(string Id, XapiObject Vdi);

    /// <summary>The document and the data-carrying VDIs sorted by id string (stream_vdi.ml `vdi_ordering`).
    /// Callers hold the database lock.</summary>
    public static (string Xml, List<Disk> Disks) Build(XapiDatabase db, XapiObject vm)
    {
        var vbds = db.Where(Schemas.Vbd, "VM", vm.Ref).ToList();
        var vifs = db.Where(Schemas.Vif, "VM", vm.Ref).ToList();
        var networks = Distinct(db, Schemas.Network, vifs.Select(v => v.Str("network")));
        var vdis = Distinct(db, Schemas.Vdi, vbds.Where(b => !b.Bool("empty")).Select(b => b.Str("VDI")));
        var srs = Distinct(db, Schemas.Sr, vdis.Select(v => v.Str("SR")));
        List<XapiObject> ordered = [vm, .. vbds, .. vifs, .. networks, .. vdis, .. srs];
        var ids = ordered.ToDictionary(o => o.Ref, _ => "Ref:" + Interlocked.Increment(ref nextId));

        var objects = ordered.Select(o => (object?)new Dictionary<string, object?>
        {
            ["class"] = o.Schema.Name,
            ["id"] = ids[o.Ref],
            ["snapshot"] = Snapshot(db, o, ids),
        }).ToList();
        var document = new Dictionary<string, object?>
        {
            ["version"] = Version(),
            ["objects"] = objects,
        };

        // export.ml `export`: VDIs of non-CD VBDs whose SR is not an iso SR carry data.
        var disks = vbds.Where(b => !b.Bool("empty") && b.Str("type") != "CD")
            .Select(b => db.Get(Schemas.Vdi, b.Str("VDI")))
            .Where(v => db.Get(Schemas.Sr, v.Str("SR")).Str("content_type") != "iso")
            .DistinctBy(v => v.Ref)
            .Select(v => new Disk(ids[v.Ref], v))
            .OrderBy(d => d.Id, StringComparer.Ordinal)
            .ToList();
        var sb = new StringBuilder();
        XmlRpc.AppendValue(sb, document);
        return (sb.ToString(), disks);
    }

    /// <summary>importexport.ml `rpc_of_version`. xapi_major/minor are low so any importer accepts the file
    /// (`assert_compatible`), as Xen Orchestra writes 1/20.</summary>
    private static Dictionary<string, object?> Version() => new()
    {
        ["hostname"] = "localhost",
        ["date"] = "2024-01-01",
        ["product_version"] = "8.2.1",
        ["product_brand"] = "XCP-ng",
        ["build_number"] = "release/yangtze/master/58",
        ["xapi_major"] = 1L,
        ["xapi_minor"] = 20L,
        ["export_vsn"] = 2L,
    };

    private static List<XapiObject> Distinct(XapiDatabase db, ClassSchema schema, IEnumerable<string> refs)
        => refs.Distinct().Where(r => db.TryGet(r, out var row) && row.Schema == schema).Select(r => db.Get(schema, r)).ToList();

    /// <summary>export.ml `make_vm`, `make_vbd`, `make_vif`, `make_sr`, `make_network` (with_snapshot_metadata=false,
    /// preserve_power_state=false).</summary>
    private static Dictionary<string, object?> Snapshot(XapiDatabase db, XapiObject row, Dictionary<string, string> ids)
    {
        var record = db.Record(row);
        foreach (var key in record.Keys.ToList())
        {
            record[key] = Rewrite(record[key], ids);
        }

        switch (row.Schema.Name)
        {
            case "VM":
                record["power_state"] = "Halted";
                record["is_a_snapshot"] = false;
                record["snapshot_time"] = XapiValue.Epoch;
                record["transportable_snapshot_id"] = "";
                foreach (var field in (string[])["suspend_VDI", "snapshot_of", "parent", "protection_policy"])
                {
                    record[field] = XapiValue.NullRef;
                }

                foreach (var field in (string[])["snapshots", "allowed_operations", "crash_dumps", "consoles"])
                {
                    record[field] = new List<object?>();
                }

                record["current_operations"] = new Dictionary<string, object?>();
                record["blobs"] = new Dictionary<string, object?>();
                break;
            case "VBD" or "VIF":
                record["currently_attached"] = false;
                record["metrics"] = XapiValue.NullRef;
                break;
            case "SR":
                record["PBDs"] = new List<object?>();
                break;
            case "network":
                record["PIFs"] = new List<object?>();
                break;
        }

        return record;
    }

    /// <summary>A reference becomes the exported object's id or NULL; sets keep only exported objects.</summary>
    private static object? Rewrite(object? value, Dictionary<string, string> ids) => value switch
    {
        string s when s.StartsWith("OpaqueRef:", StringComparison.Ordinal)
            => ids.TryGetValue(s, out var id) ? id : XapiValue.NullRef,
        List<object?> items when items.Any(i => i is string s && s.StartsWith("OpaqueRef:", StringComparison.Ordinal))
            => items.OfType<string>().Where(ids.ContainsKey).Select(r => (object?)ids[r]).ToList(),
        _ => value,
    };
}
