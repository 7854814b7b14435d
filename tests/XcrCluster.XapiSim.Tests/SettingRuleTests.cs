using XcrCluster.Xapi;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The rules XAPI puts on the setters a replica refresh uses: VCPUs (xapi_vm.ml), BIOS strings once (xapi_vm.ml),
/// domain type and boot policy derived from each other (xapi_vm_helpers.ml),
/// one VIF per device (xapi_vif_helpers.ml), one vTPM per halted VM with base64 contents (xapi_vtpm.ml).</summary>
public sealed class SettingRuleTests
{
    [Fact]
    public async Task Vcpus_bios_strings_vif_devices_and_vtpms_follow_xapi_s_rules()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "db01"))!).Single()!;
        await rpc.CallAsync("VM.set_VCPUs_max", vm, 4L);
        await rpc.CallAsync("VM.set_VCPUs_at_startup", vm, 4L);
        Assert.Equal("INVALID_VALUE", await CodeAsync(() => rpc.CallAsync("VM.set_VCPUs_max", vm, 2L)));
        Assert.Equal("INVALID_VALUE", await CodeAsync(() => rpc.CallAsync("VM.set_VCPUs_at_startup", vm, 5L)));

        var unknown = new Dictionary<string, object?> { ["oem-1"] = "Xen" };
        Assert.Equal("INVALID_VALUE", await CodeAsync(() => rpc.CallAsync("VM.set_bios_strings", vm, unknown)));
        await rpc.CallAsync("VM.set_bios_strings", vm, new Dictionary<string, object?> { ["bios-vendor"] = "Dell Inc." });
        var strings = (Dictionary<string, object?>)(await rpc.CallAsync("VM.get_bios_strings", vm))!;
        Assert.Equal(("Dell Inc.", "HVM domU", "Xen"), (strings["bios-vendor"], strings["system-product-name"], strings["oem-1"]));
        var again = new Dictionary<string, object?> { ["bios-vendor"] = "Other" };
        Assert.Equal("VM_BIOS_STRINGS_ALREADY_SET", await CodeAsync(() => rpc.CallAsync("VM.set_bios_strings", vm, again)));

        await rpc.CallAsync("VM.set_HVM_boot_policy", vm, "");
        Assert.Equal("pv", await rpc.CallAsync("VM.get_domain_type", vm));
        await rpc.CallAsync("VM.set_domain_type", vm, "hvm");
        Assert.Equal("BIOS order", await rpc.CallAsync("VM.get_HVM_boot_policy", vm));
        Assert.Equal("INVALID_VALUE", await CodeAsync(() => rpc.CallAsync("VM.set_domain_type", vm, "unspecified")));

        var network = (await rpc.AllRecordsAsync("network")).First().Key;
        var vif = new Dictionary<string, object?> { ["VM"] = vm, ["network"] = network, ["device"] = "0", ["MAC"] = "" };
        Assert.Equal(["DEVICE_ALREADY_EXISTS", "0"],
            (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VIF.create", vif))).Description);

        var vtpm = (string)(await rpc.CallAsync("VTPM.create", vm, false))!;
        Assert.Equal("VTPM_MAX_AMOUNT_REACHED", await CodeAsync(() => rpc.CallAsync("VTPM.create", vm, false)));
        Assert.Equal("INTERNAL_ERROR", await CodeAsync(() => rpc.CallAsync("VTPM.set_contents", vtpm, "not base64!")));
        await rpc.CallAsync("VTPM.set_contents", vtpm, "dHBt");
        var snapshot = (string)(await rpc.CallAsync("VM.snapshot", vm, "with vtpm"))!;
        var copied = ((List<object?>)(await rpc.CallAsync("VM.get_VTPMs", snapshot))!).Cast<string>().Single();
        Assert.Equal("dHBt", await rpc.CallAsync("VTPM.get_contents", copied)); // not unique: its contents are copied
        await rpc.CallAsync("VTPM.destroy", vtpm);
        Assert.Empty((List<object?>)(await rpc.CallAsync("VM.get_VTPMs", vm))!);
    }

    private static async Task<string> CodeAsync(Func<Task> call) => (await Assert.ThrowsAsync<XapiException>(call)).Code;
}
