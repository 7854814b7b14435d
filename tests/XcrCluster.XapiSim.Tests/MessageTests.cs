using XcrCluster.Xapi;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Tests;

/// <summary>Messages with XAPI's semantics: snapshots, clones, copies, power operations, devices, tasks,
/// events and Async results.</summary>
public sealed class MessageTests
{
    private static async Task<(SimHost Sim, RpcClient Rpc)> OpenAsync()
    {
        var sim = await SimHost.StartAsync();
        var rpc = sim.Json();
        await rpc.LoginAsync();
        return (sim, rpc);
    }

    private static async Task<string> VmAsync(RpcClient rpc, string name) => (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", name))!).Single()!;

    private static async Task<List<Dictionary<string, object?>>> DevicesAsync(RpcClient rpc, string vm, string field, string cls)
    {
        var list = new List<Dictionary<string, object?>>();
        foreach (var r in ((List<object?>)(await rpc.CallAsync($"VM.get_{field}", vm))!).Cast<string>())
        {
            list.Add(await rpc.RecordAsync(cls, r));
        }

        return list;
    }

    [Fact]
    public async Task A_snapshot_is_a_halted_template_with_the_same_macs_and_snapshot_disks_and_ignore_vdis_leaves_one_out()
    {
        var (sim, rpc) = await OpenAsync();
        await using var _ = sim;
        using var __ = rpc;
        var vm = await VmAsync(rpc, "web01");
        await rpc.CallAsync("VM.add_to_blocked_operations", vm, "destroy", "x");
        var snap = (string)(await rpc.CallAsync("VM.snapshot", vm, "snap1"))!;
        var record = await rpc.RecordAsync("VM", snap);
        Assert.Equal(true, record["is_a_snapshot"]);
        Assert.Equal(true, record["is_a_template"]);
        Assert.Equal(vm, record["snapshot_of"]);
        Assert.Equal("Halted", record["power_state"]);
        Assert.Empty((Dictionary<string, object?>)record["blocked_operations"]!);
        Assert.Contains(snap, ((List<object?>)(await rpc.CallAsync("VM.get_snapshots", vm))!).Cast<string>());
        Assert.Equal(
            (await DevicesAsync(rpc, vm, "VIFs", "VIF")).Select(v => v["MAC"]).Order(),
            (await DevicesAsync(rpc, snap, "VIFs", "VIF")).Select(v => v["MAC"]).Order());
        var disks = (await DevicesAsync(rpc, snap, "VBDs", "VBD")).Where(b => (string)b["type"]! == "Disk").ToList();
        Assert.Equal(2, disks.Count);
        foreach (var vbd in disks)
        {
            var vdi = await rpc.RecordAsync("VDI", (string)vbd["VDI"]!);
            Assert.Equal(true, vdi["is_a_snapshot"]);
            Assert.NotEqual(XapiValue.NullRef, vdi["snapshot_of"]);
        }

        Assert.Single(await DevicesAsync(rpc, snap, "VBDs", "VBD"), b => (string)b["type"]! == "CD");
        var firstDisk = (string)(await DevicesAsync(rpc, vm, "VBDs", "VBD")).First(b => (string)b["type"]! == "Disk")["VDI"]!;
        var partial = (string)(await rpc.CallAsync("VM.snapshot", vm, "snap2", new List<object?> { firstDisk }))!;
        Assert.Single(await DevicesAsync(rpc, partial, "VBDs", "VBD"), b => (string)b["type"]! == "Disk");
    }

    [Fact]
    public async Task Clones_and_copies_get_new_macs_and_copies_land_on_the_given_sr_with_the_same_content()
    {
        var (sim, rpc) = await OpenAsync();
        await using var _ = sim;
        using var __ = rpc;
        var vm = await VmAsync(rpc, "db01");
        var clone = (string)(await rpc.CallAsync("VM.clone", vm, "db01-clone"))!;
        var cloneRecord = await rpc.RecordAsync("VM", clone);
        Assert.Equal(false, cloneRecord["is_a_snapshot"]);
        Assert.NotEqual((await rpc.RecordAsync("VM", vm))["other_config"] is Dictionary<string, object?> o ? o.GetValueOrDefault("mac_seed") : null,
            ((Dictionary<string, object?>)cloneRecord["other_config"]!)["mac_seed"]);
        Assert.NotEqual(
            (await DevicesAsync(rpc, vm, "VIFs", "VIF")).Select(v => v["MAC"]).Order(),
            (await DevicesAsync(rpc, clone, "VIFs", "VIF")).Select(v => v["MAC"]).Order());

        var srs = await rpc.AllRecordsAsync("SR");
        var second = srs.Single(p => (string)p.Value["name_label"]! == "Second storage").Key;
        var copy = (string)(await rpc.CallAsync("VM.copy", vm, "db01-copy", second))!;
        var sourceDisk = (string)(await DevicesAsync(rpc, vm, "VBDs", "VBD")).Single(b => (string)b["type"]! == "Disk")["VDI"]!;
        var copyDisk = (string)(await DevicesAsync(rpc, copy, "VBDs", "VBD")).Single(b => (string)b["type"]! == "Disk")["VDI"]!;
        Assert.Equal(second, await rpc.CallAsync("VDI.get_SR", copyDisk));
        Assert.Equal(
            Storage.GuestWorkload.Checksum(sim.Pool, sourceDisk),
            Storage.GuestWorkload.Checksum(sim.Pool, copyDisk));
        await rpc.CallAsync("VM.destroy", copy);
        await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.get_record", copy));
    }

    [Fact]
    public async Task Start_honours_blocked_operations_reports_guest_metrics_and_shutdown_clears_them()
    {
        var (sim, rpc) = await OpenAsync();
        await using var _ = sim;
        using var __ = rpc;
        var vm = await VmAsync(rpc, "db01");
        await rpc.CallAsync("VM.add_to_blocked_operations", vm, "start", "Start operation is blocked, clone it if you want to use it.");
        var blocked = await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.start", vm, false, true));
        Assert.Equal(["OPERATION_BLOCKED", vm, "Start operation is blocked, clone it if you want to use it."], blocked.Description);
        await rpc.CallAsync("VM.remove_from_blocked_operations", vm, "start");
        await rpc.CallAsync("VM.start", vm, false, true);
        Assert.Equal("Running", await rpc.CallAsync("VM.get_power_state", vm));
        var metrics = (string)(await rpc.CallAsync("VM.get_guest_metrics", vm))!;
        Assert.Equal(true, (await rpc.RecordAsync("VM_guest_metrics", metrics))["PV_drivers_detected"]);
        Assert.Equal(["VM_BAD_POWER_STATE", vm, "halted", "running"], (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.start", vm, false, false))).Description);
        await rpc.CallAsync("VM.hard_shutdown", vm);
        Assert.Equal("Halted", await rpc.CallAsync("VM.get_power_state", vm));
        Assert.Equal(XapiValue.NullRef, await rpc.CallAsync("VM.get_guest_metrics", vm));
        await rpc.CallAsync("VM.set_is_a_template", vm, true);
        Assert.Equal("VM_IS_TEMPLATE", (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.start", vm, false, false))).Code);
    }

    [Fact]
    public async Task Network_create_makes_an_internal_network_on_a_free_xapi_bridge()
    {
        var (sim, rpc) = await OpenAsync();
        await using var _ = sim;
        using var __ = rpc;
        var first = (string)(await rpc.CallAsync("network.create",
            new Dictionary<string, object?> { ["name_label"] = "a", ["MTU"] = 0L }))!;
        var second = (string)(await rpc.CallAsync("network.create",
            new Dictionary<string, object?> { ["name_label"] = "b", ["MTU"] = 9000L }))!;
        var (a, b) = (await rpc.RecordAsync("network", first), await rpc.RecordAsync("network", second));
        Assert.Equal(("xapi0", "xapi1"), ((string)a["bridge"]!, (string)b["bridge"]!));
        Assert.Equal((1500L, 9000L), (Convert.ToInt64(a["MTU"]), Convert.ToInt64(b["MTU"])));
        Assert.Empty((List<object?>)a["PIFs"]!);
    }

    [Fact]
    public async Task Create_a_vm_with_disk_and_devices_then_take_it_apart()
    {
        var (sim, rpc) = await OpenAsync();
        await using var _ = sim;
        using var __ = rpc;
        var sr = (await rpc.AllRecordsAsync("SR")).First().Key;
        var network = (await rpc.AllRecordsAsync("network")).First().Key;
        var vm = (string)(await rpc.CallAsync("VM.create", new Dictionary<string, object?>
        {
            ["name_label"] = "made", ["memory_static_max"] = "1073741824", ["VCPUs_max"] = 2L, ["is_a_template"] = false,
            ["blocked_operations"] = new Dictionary<string, object?> { ["start"] = "replica" },
        }))!;
        await rpc.CallAsync("VM.set_memory_limits", vm, "268435456", "536870912", "268435456", "536870912");
        Assert.Equal(536870912L, Convert.ToInt64(await rpc.CallAsync("VM.get_memory_static_max", vm)));
        var vdi = (string)(await rpc.CallAsync("VDI.create", new Dictionary<string, object?> { ["SR"] = sr, ["virtual_size"] = "4194304", ["name_label"] = "d", ["type"] = "user" }))!;
        var vbd = (string)(await rpc.CallAsync("VBD.create", new Dictionary<string, object?> { ["VM"] = vm, ["VDI"] = vdi, ["userdevice"] = "0", ["type"] = "Disk", ["mode"] = "RW", ["bootable"] = true }))!;
        var vif = (string)(await rpc.CallAsync("VIF.create", new Dictionary<string, object?> { ["VM"] = vm, ["network"] = network, ["device"] = "0", ["MAC"] = "" }))!;
        Assert.Matches("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", (string)(await rpc.CallAsync("VIF.get_MAC", vif))!);
        Assert.Equal([vbd], ((List<object?>)(await rpc.CallAsync("VDI.get_VBDs", vdi))!).Cast<string>());
        await rpc.CallAsync("VDI.resize", vdi, "8388608");
        Assert.Equal(8388608L, Convert.ToInt64(await rpc.CallAsync("VDI.get_virtual_size", vdi)));
        Assert.Equal("SR_BACKEND_FAILURE_79", (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VDI.resize", vdi, "4194304"))).Code);
        await rpc.CallAsync("VIF.destroy", vif);
        await rpc.CallAsync("VBD.destroy", vbd);
        await rpc.CallAsync("VDI.destroy", vdi);
        Assert.Equal(["OPERATION_BLOCKED", vm, "replica"], (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.start", vm, false, false))).Description);
        await rpc.CallAsync("VM.destroy", vm);
        Assert.Empty(await rpc.CallAsync("VM.get_by_name_label", "made") as List<object?> ?? []);
    }

    [Fact]
    public async Task Async_calls_return_a_task_whose_result_is_an_xml_fragment_or_whose_error_info_is_the_xapi_error()
    {
        var (sim, rpc) = await OpenAsync();
        await using var _ = sim;
        using var __ = rpc;
        var vm = await VmAsync(rpc, "tiny01");
        var ok = (string)(await rpc.CallAsync("Async.VM.snapshot", vm, "async"))!;
        var done = await SettleAsync(rpc, ok);
        Assert.Equal("success", done["status"]);
        Assert.Matches("^<value>OpaqueRef:[^<]+</value>$", (string)done["result"]!);
        Assert.Equal(1.0, done["progress"]);

        var failing = (string)(await rpc.CallAsync("Async.VM.start", vm, false, false))!;
        var failed = await SettleAsync(rpc, failing);
        Assert.Equal("failure", failed["status"]);
        Assert.Equal(["VM_BAD_POWER_STATE", vm, "halted", "running"], ((List<object?>)failed["error_info"]!).Cast<string>());
        Assert.Equal("", failed["result"]);
        await rpc.CallAsync("task.destroy", failing);
        await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("task.get_record", failing));
    }

    [Fact]
    public async Task Event_from_returns_task_events_after_the_token_and_holds_until_one_happens()
    {
        var (sim, rpc) = await OpenAsync();
        await using var _ = sim;
        using var __ = rpc;
        var start = (Dictionary<string, object?>)(await rpc.CallAsync("event.from", new List<object?> { "task" }, "", 0.0))!;
        var token = (string)start["token"]!;
        Assert.Matches("^[0-9]{20},[0-9]{20}$", token);
        using var watcher = sim.Json();
        await watcher.LoginAsync();
        var held = watcher.CallAsync("event.from", new List<object?> { "task" }, token, 30.0);
        Assert.False(held.IsCompleted);
        var task = (string)(await rpc.CallAsync("task.create", "mine", "desc"))!;
        var result = (Dictionary<string, object?>)(await held)!;
        var ev = Assert.Single((List<object?>)result["events"]!, e => ((Dictionary<string, object?>)e!)["ref"] as string == task) as Dictionary<string, object?>;
        Assert.Equal("add", ev!["operation"]);
        Assert.Equal("task", ev["class"]);
        Assert.Equal("mine", ((Dictionary<string, object?>)ev["snapshot"]!)["name_label"]);

        await rpc.CallAsync("task.set_progress", task, 0.5);
        await rpc.CallAsync("task.cancel", task);
        var vm = await VmAsync(rpc, "db01");
        var injected = (string)(await rpc.CallAsync("event.inject", "VM", vm))!;
        var after = (Dictionary<string, object?>)(await rpc.CallAsync("event.from", new List<object?> { "task", "vm" }, (string)result["token"]!, 1.0))!;
        var events = ((List<object?>)after["events"]!).Cast<Dictionary<string, object?>>().ToList();
        Assert.Contains(events, e => e["ref"] as string == task && e["operation"] as string == "mod" && ((Dictionary<string, object?>)e["snapshot"]!)["status"] as string == "cancelling");
        Assert.Contains(events, e => e["ref"] as string == vm && e["class"] as string == "vm");
        Assert.True(string.CompareOrdinal((string)after["token"]!, injected) >= 0);
        await rpc.CallAsync("task.destroy", task);
    }

    private static async Task<Dictionary<string, object?>> SettleAsync(RpcClient rpc, string task)
    {
        var token = "";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var record = await rpc.RecordAsync("task", task);
            if ((string)record["status"]! != "pending")
            {
                return record;
            }

            token = (string)((Dictionary<string, object?>)(await rpc.CallAsync("event.from", new List<object?> { "task" }, token, 5.0))!)["token"]!;
        }

        throw new TimeoutException($"task {task} still pending");
    }
}
