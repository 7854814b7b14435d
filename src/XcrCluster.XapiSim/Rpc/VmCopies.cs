using XcrCluster.XapiSim.Model;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>The VM record VM.snapshot, VM.clone and VM.copy create, as `copy_vm_record` in
/// ocaml/xapi/xapi_vm_clone.ml builds it: the source's configuration, with what belongs to the source's
/// identity, placement, scheduling and protection reset.</summary>
internal static class VmCopies
{
    private const string MacSeed = "mac_seed";

    public static Dictionary<string, object?> Record(XapiDatabase db, XapiObject vm, string newName, bool isSnapshot)
    {
        var fields = db.Record(vm).Where(p => !Schemas.Vm.Field(p.Key).IsComputed && p.Key != "uuid").ToDictionary();
        fields["name_label"] = newName;
        fields["power_state"] = "Halted";
        fields["is_a_snapshot"] = isSnapshot;
        fields["is_a_template"] = isSnapshot || vm.Bool("is_a_template");
        fields["is_default_template"] = false;
        fields["snapshot_of"] = isSnapshot ? vm.Ref : XapiValue.NullRef;
        fields["snapshot_time"] = isSnapshot ? DateTime.UtcNow : XapiValue.Epoch;
        fields["transportable_snapshot_id"] = "";

        // CA-52668 in XAPI: a clone or copy is a new top-level VM; a snapshot keeps the source's parent.
        fields["parent"] = isSnapshot ? vm.Str("parent") : XapiValue.NullRef;
        foreach (var field in (string[])["resident_on", "scheduled_to_be_resident_on", "suspend_VDI", "suspend_SR", "appliance",
                     "protection_policy", "snapshot_schedule", "guest_metrics"])
        {
            fields[field] = XapiValue.NullRef;
        }

        fields["domid"] = -1L;
        fields["domarch"] = "";
        fields["allowed_operations"] = new List<object?>();
        fields["blocked_operations"] = new Dictionary<string, object?>();
        fields["current_operations"] = new Dictionary<string, object?>();
        fields["blobs"] = new Dictionary<string, object?>();
        fields["pending_guidances"] = new List<object?>();
        fields["ha_always_run"] = false;
        fields["is_snapshot_from_vmpp"] = false;
        fields["is_vmss_snapshot"] = false;
        foreach (var field in (string[])["start_delay", "shutdown_delay", "order", "version"])
        {
            fields[field] = 0L;
        }

        fields["generation_id"] = FreshGenerationId(vm.Str("generation_id"));
        fields["other_config"] = OtherConfig(vm, isSnapshot);
        return fields;
    }

    /// <summary>Xapi_vm_helpers.fresh_genid: "" stays "" (no generation id), anything else gets two new numbers.</summary>
    private static string FreshGenerationId(string current)
        => current.Length == 0 ? "" : $"{Random.Shared.NextInt64(long.MaxValue)}:{Random.Shared.NextInt64(long.MaxValue)}";

    /// <summary>Copied, with a new mac_seed unless a snapshot, without default_template and xensource_internal, and
    /// base_template_name set from a template source that lacks one.</summary>
    private static Dictionary<string, object?> OtherConfig(XapiObject vm, bool isSnapshot)
    {
        var otherConfig = new Dictionary<string, object?>(vm.Map("other_config"));
        if (!isSnapshot)
        {
            otherConfig[MacSeed] = Guid.NewGuid().ToString();
        }

        otherConfig.Remove("default_template");
        otherConfig.Remove("xensource_internal");
        if (vm.Bool("is_a_template"))
        {
            otherConfig.TryAdd("base_template_name", vm.Str("name_label"));
        }

        return otherConfig;
    }
}
