using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>VM setters whose rules go beyond the generic field setter, as XAPI checks them.</summary>
internal static class VmSettingMessages
{
    /// <summary>The BIOS string keys a client may set (<c>settable_vm_bios_string_keys</c> in ocaml/xapi/xapi_globs.ml).</summary>
    private static readonly HashSet<string> SettableBiosKeys =
    [
        "bios-vendor", "bios-version", "system-manufacturer", "system-product-name", "system-version", "system-serial-number",
        "baseboard-manufacturer", "baseboard-product-name", "baseboard-version", "baseboard-serial-number", "baseboard-asset-tag",
        "baseboard-location-in-chassis", "enclosure-asset-tag",
    ];

    /// <summary>What a VM gets from VM.set_bios_strings before the given values (<c>generic_bios_strings</c>, xapi_globs.ml).</summary>
    private static readonly (string Key, string Value)[] GenericBiosStrings =
    [
        ("bios-vendor", "Xen"), ("bios-version", ""), ("system-manufacturer", "Xen"), ("system-product-name", "HVM domU"),
        ("system-version", ""), ("system-serial-number", ""), ("baseboard-manufacturer", ""), ("baseboard-product-name", ""),
        ("baseboard-version", ""), ("baseboard-serial-number", ""), ("baseboard-asset-tag", ""), ("baseboard-location-in-chassis", ""),
        ("enclosure-asset-tag", ""), ("hp-rombios", ""), ("oem-1", "Xen"),
        ("oem-2", "MS_VM_CERT/SHA1/bdbeb6e0a816d43fa6d3fe8aaef04c2bad9d3e3d"),
    ];

    public static void Register(MethodTable table)
    {
        // set_VCPUs_max and set_VCPUs_at_startup in ocaml/xapi/xapi_vm.ml: 0 < VCPUs_at_startup <= VCPUs_max at every step,
        // so a client lowering both sets VCPUs_at_startup first, and raising both sets VCPUs_max first.
        table.Add("VM.set_VCPUs_max", 2, call =>
        {
            var vm = call.Get(Schemas.Vm, 0);
            var value = call.Args.Long(1);
            if (value < 1 || value < vm.Int("VCPUs_at_startup"))
            {
                throw new XapiException("INVALID_VALUE", "VCPU values must satisfy: 0 < VCPUs_at_startup ≤ VCPUs_max", $"{value}");
            }

            call.Db.Set(vm, "VCPUs_max", value);
            return "";
        });
        table.Add("VM.set_VCPUs_at_startup", 2, call =>
        {
            var vm = call.Get(Schemas.Vm, 0);
            var value = call.Args.Long(1);
            if (value < 1 || value > vm.Int("VCPUs_max"))
            {
                throw new XapiException("INVALID_VALUE", "VCPU values must satisfy: 0 < VCPUs_at_startup ≤ VCPUs_max", $"{value}");
            }

            call.Db.Set(vm, "VCPUs_at_startup", value);
            return "";
        });
        table.Add("VM.set_bios_strings", 2, SetBiosStrings);

        // set_domain_type and set_HVM_boot_policy in ocaml/xapi/xapi_vm_helpers.ml: each derives the other field, so the
        // one set last decides both (an HVM domain boots "BIOS order", any other none; an empty policy is PV).
        table.Add("VM.set_domain_type", 2, call =>
        {
            var vm = call.Get(Schemas.Vm, 0);
            var value = call.Args.String(1);
            if (value is not ("hvm" or "pv" or "pv_in_pvh" or "pvh"))
            {
                throw new XapiException("INVALID_VALUE", "domain_type", value);
            }

            call.Db.Set(vm, "domain_type", value);
            call.Db.Set(vm, "HVM_boot_policy", value == "hvm" ? "BIOS order" : "");
            return "";
        });
        table.Add("VM.set_HVM_boot_policy", 2, call =>
        {
            var vm = call.Get(Schemas.Vm, 0);
            var value = call.Args.String(1);
            call.Db.Set(vm, "domain_type", value.Length == 0 ? "pv" : "hvm");
            call.Db.Set(vm, "HVM_boot_policy", value);
            return "";
        });
    }

    /// <summary><c>set_bios_strings</c> in ocaml/xapi/xapi_vm.ml: only a VM without BIOS strings takes them
    /// (VM_BIOS_STRINGS_ALREADY_SET otherwise); each key must be settable and each value non-empty printable ASCII of at
    /// most 512 characters (<c>assert_valid_bios_strings</c>, xapi_vm_helpers.ml); the VM gets the generic strings with
    /// the given values over them.</summary>
    private static object? SetBiosStrings(Call call)
    {
        var vm = call.Get(Schemas.Vm, 0);
        if (vm.Map("bios_strings").Count > 0)
        {
            throw new XapiException("VM_BIOS_STRINGS_ALREADY_SET");
        }

        var given = call.Args.Map(1).ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "");
        foreach (var (key, value) in given)
        {
            if (!SettableBiosKeys.Contains(key))
            {
                throw new XapiException("INVALID_VALUE", key, "Unknown key");
            }

            if (value.Length == 0 || value.Length > 512 || value.Any(c => c < ' ' || c >= (char)127))
            {
                throw new XapiException("INVALID_VALUE", key, value);
            }
        }

        call.Db.Set(vm, "bios_strings",
            GenericBiosStrings.ToDictionary(p => p.Key, p => (object?)given.GetValueOrDefault(p.Key, p.Value)));
        return "";
    }
}
