using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Tests;

/// <summary>VM.snapshot, VM.clone and VM.copy build the new record as copy_vm_record in
/// ocaml/xapi/xapi_vm_clone.ml: what identifies, places, schedules or protects the source is reset.</summary>
public sealed class VmCopyTests
{
    /// <summary>db01 given everything copy_vm_record resets, so a copy that keeps any of it shows.</summary>
    private static string Decorate(SimHost sim, string vmRef)
    {
        lock (sim.Pool.Db.Sync)
        {
            var vm = sim.Pool.Db.Get(Schemas.Vm, vmRef);
            var sr = sim.Pool.Db.All(Schemas.Sr).First().Ref;
            vm.Fields["blocked_operations"] = new Dictionary<string, object?> { ["start"] = "replica", ["destroy"] = "keep" };
            vm.Fields["allowed_operations"] = new List<object?> { "start", "clone" };
            vm.Fields["ha_always_run"] = true;
            vm.Fields["start_delay"] = 5L;
            vm.Fields["shutdown_delay"] = 6L;
            vm.Fields["order"] = 7L;
            vm.Fields["version"] = 3L;
            vm.Fields["suspend_SR"] = sr;
            vm.Fields["generation_id"] = "1:2";
            vm.Fields["name_description"] = "kept";
            vm.Fields["other_config"] = new Dictionary<string, object?>
            {
                ["mac_seed"] = "seed", ["default_template"] = "true", ["xensource_internal"] = "true", ["kept"] = "v",
            };
            sim.Pool.Db.Touch(vm);
            return sr;
        }
    }

    private static async Task<List<string>> MacsAsync(RpcClient rpc, string vm)
    {
        var macs = new List<string>();
        foreach (var vif in (List<object?>)(await rpc.CallAsync("VM.get_VIFs", vm))!)
        {
            macs.Add((string)(await rpc.CallAsync("VIF.get_MAC", vif))!);
        }

        return [.. macs.Order()];
    }

    [Theory]
    [InlineData("VM.snapshot")]
    [InlineData("VM.clone")]
    [InlineData("VM.copy")]
    public async Task The_new_vm_has_what_copy_vm_record_resets_reset_and_the_rest_copied(string method)
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "db01"))!)[0]!;
        var sr = Decorate(sim, vm);
        var copy = (string)(method == "VM.copy" ? await rpc.CallAsync(method, vm, "new", sr) : await rpc.CallAsync(method, vm, "new"))!;
        var r = await rpc.RecordAsync("VM", copy);
        var isSnapshot = method == "VM.snapshot";

        Assert.Empty((Dictionary<string, object?>)r["blocked_operations"]!);
        Assert.Empty((List<object?>)r["allowed_operations"]!);
        Assert.False((bool)r["ha_always_run"]!);
        foreach (var field in (string[])["start_delay", "shutdown_delay", "order", "version"])
        {
            Assert.Equal(0L, Convert.ToInt64(r[field]));
        }

        foreach (var field in (string[])["appliance", "protection_policy", "suspend_SR"])
        {
            Assert.Equal("OpaqueRef:NULL", r[field]);
        }

        Assert.NotEqual("1:2", r["generation_id"]);
        Assert.Matches("^[0-9]+:[0-9]+$", (string)r["generation_id"]!);
        Assert.Equal("kept", r["name_description"]);
        var otherConfig = (Dictionary<string, object?>)r["other_config"]!;
        Assert.Equal("v", otherConfig["kept"]);
        Assert.False(otherConfig.ContainsKey("default_template"));
        Assert.False(otherConfig.ContainsKey("xensource_internal"));
        Assert.Equal(isSnapshot, (string)otherConfig["mac_seed"]! == "seed");
        Assert.Equal(isSnapshot, (await MacsAsync(rpc, copy)).SequenceEqual(await MacsAsync(rpc, vm)));
        Assert.Equal(isSnapshot, (bool)r["is_a_snapshot"]!);

        // The source keeps its own settings.
        Assert.Equal("replica", ((Dictionary<string, object?>)(await rpc.RecordAsync("VM", vm))["blocked_operations"]!)["start"]);
    }

    [Fact]
    public async Task A_clone_of_a_start_blocked_vm_can_start()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "db01"))!)[0]!;
        Decorate(sim, vm);
        var clone = (string)(await rpc.CallAsync("VM.clone", vm, "clone"))!;
        await rpc.CallAsync("VM.start", clone, false, false);
        Assert.Equal("Running", await rpc.CallAsync("VM.get_power_state", clone));
    }
}
