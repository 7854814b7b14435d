using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.Replication.Tests;

/// <summary>Issue 15, "settings that must act": a change on the source between two runs reaches the replica at the next
/// (delta) run, as Xen Orchestra's update mode refreshes it (spec §2.10). Each test fails if the refresh is skipped.</summary>
public sealed class ReplicaRefreshTests
{
    [Fact]
    public async Task Name_description_memory_vcpus_platform_boot_and_tags_follow_the_source()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        await RunAsync(pools, target, vm, full: true);

        const long MiB = 1L << 20;
        Edit(pools, vm.Uuid, new()
        {
            ["name_label"] = "tiny01-renamed", ["name_description"] = "web front", ["memory_static_min"] = 256 * MiB,
            ["memory_dynamic_min"] = 512 * MiB, ["memory_dynamic_max"] = 1536 * MiB, ["memory_static_max"] = 2048 * MiB,
            ["VCPUs_max"] = 4L, ["VCPUs_at_startup"] = 2L,
            ["platform"] = new Dictionary<string, object?> { ["cores-per-socket"] = "2", ["viridian"] = "true" },
            ["HVM_boot_policy"] = "BIOS order", ["HVM_boot_params"] = new Dictionary<string, object?> { ["order"] = "dc" },
            ["tags"] = new List<object?> { "prod", "web" },
        });
        var replica = await RunAsync(pools, target, vm, full: false);
        Assert.EndsWith("tiny01-renamed", replica.NameLabel, StringComparison.Ordinal);
        Assert.StartsWith("web front -- last replication: ", replica.NameDescription, StringComparison.Ordinal);
        Assert.Equal((256 * MiB, 512 * MiB, 1536 * MiB, 2048 * MiB),
            (replica.MemoryStaticMin, replica.MemoryDynamicMin, replica.MemoryDynamicMax, replica.MemoryStaticMax));
        Assert.Equal((4L, 2L), (replica.VcpusMax, replica.VcpusAtStartup));
        Assert.Equal(("2", "true"), (replica.Platform["cores-per-socket"], replica.Platform["viridian"]));
        Assert.Equal("dc", replica.HvmBootParams["order"]);
        Assert.Equal(["Continuous Replication", "prod", "web"], replica.Tags.Order(StringComparer.Ordinal));

        // Fewer CPUs: XAPI wants VCPUs_at_startup <= VCPUs_max after each call, so lowering sets at_startup first.
        Edit(pools, vm.Uuid, new() { ["VCPUs_at_startup"] = 1L, ["VCPUs_max"] = 1L, ["tags"] = new List<object?>() });
        replica = await RunAsync(pools, target, vm, full: false);
        Assert.Equal((1L, 1L), (replica.VcpusMax, replica.VcpusAtStartup));
        Assert.Equal(["Continuous Replication"], replica.Tags);
    }

    [Fact]
    public async Task Actions_pv_boot_cpu_parameters_xenstore_versions_and_delays_follow_the_source()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        await RunAsync(pools, target, vm, full: true);

        var changes = new Dictionary<string, object?>
        {
            ["actions_after_shutdown"] = "restart", ["actions_after_reboot"] = "destroy", ["actions_after_crash"] = "preserve",
            ["domain_type"] = "pv_in_pvh", ["has_vendor_device"] = true, ["HVM_shadow_multiplier"] = 2.5,
            ["PV_bootloader"] = "pygrub", ["PV_kernel"] = "/boot/vmlinuz", ["PV_ramdisk"] = "/boot/initrd", ["PV_args"] = "console=hvc0",
            ["PV_bootloader_args"] = "--quiet", ["PV_legacy_args"] = "ro", ["recommendations"] = "<restrictions/>",
            ["user_version"] = 3L, ["VCPUs_params"] = new Dictionary<string, object?> { ["weight"] = "512" },
            ["xenstore_data"] = new Dictionary<string, object?> { ["vm-data/role"] = "web" }, ["shutdown_delay"] = 30L,
        };
        Edit(pools, vm.Uuid, changes);
        var replica = await RunAsync(pools, target, vm, full: false);
        var fields = await pools.Target.VmFieldsAsync(replica.Ref);
        foreach (var (name, value) in changes)
        {
            Assert.True(Text(value) == Text(fields[name]), $"{name}: {Text(fields[name])}, not {Text(value)}");
        }
    }

    [Fact]
    public async Task A_vif_added_or_removed_on_the_source_follows_on_the_mapped_network_with_its_mac()
    {
        var source = SimHost.SmallFixture with
        {
            Networks = [new FixtureNetwork("LAN"), new FixtureNetwork("Storage", 20)],
            Vms = [SimHost.SmallFixture.Vms[2] with { Vifs = [new FixtureVif("LAN")] }],
        };
        var targetFixture = SimHost.SmallFixture with
        {
            Networks = [new FixtureNetwork("LAN"), new FixtureNetwork("Storage", 20), new FixtureNetwork("DR storage", 30)],
        };
        await using var pools = await TwoPools.StartAsync(o => o with { Fixture = source }, o => o with { Fixture = targetFixture });
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var replica = await RunAsync(pools, target, vm, full: true);
        var byName = (await pools.Target.NetworksAsync()).ToDictionary(n => n.Ref, n => n.Name);
        Assert.Equal(["0:LAN"], (await VifsAsync(pools.Target, replica)).Select(v => $"{v.Device}:{byName[v.Network]}"));

        // On the source: a VIF on Storage is added, the one on LAN removed.
        var storage = (await pools.Source.NetworksAsync()).Single(n => n.Name == "Storage");
        await pools.Source.CreateVifAsync(new Dictionary<string, object?>
        {
            ["VM"] = vm.Ref, ["network"] = storage.Ref, ["device"] = "1", ["MAC"] = "02:00:00:00:00:21", ["MTU"] = 9000L,
            ["other_config"] = new Dictionary<string, object?>(), ["qos_algorithm_type"] = "",
            ["qos_algorithm_params"] = new Dictionary<string, object?>(),
        });
        await pools.Source.DestroyVifAsync(vm.Vifs.Single());
        replica = await RunAsync(pools, target, vm, full: false);
        var vif = (await VifsAsync(pools.Target, replica)).Single();
        Assert.Equal(("1", "Storage", "02:00:00:00:00:21", 9000L), (vif.Device, byName[vif.Network], vif.Mac, vif.Mtu));
        Assert.Equal(storage.Uuid, vif.OtherConfig[Recovery.FailoverNetworks.SourceNetworkKey]);

        // No change: the VIF stays as it is; a new mapping moves it, MAC and device kept.
        replica = await RunAsync(pools, target, vm, full: false);
        Assert.Equal(vif.Ref, replica.Vifs.Single());
        var dr = (await pools.Target.NetworksAsync()).Single(n => n.Name == "DR storage");
        var settings = new ReplicationSettings { NetworkMapping = new Dictionary<string, string> { [storage.Uuid] = dr.Uuid } };
        replica = await RunAsync(pools, target, vm, full: false, settings);
        var moved = (await VifsAsync(pools.Target, replica)).Single();
        Assert.Equal(("1", "DR storage", "02:00:00:00:00:21"), (moved.Device, byName[moved.Network], moved.Mac));
    }

    [Fact]
    public async Task A_replica_of_an_ha_protected_vm_is_never_protected_and_says_so_on_every_run()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        Edit(pools, vm.Uuid, new() { ["ha_restart_priority"] = "restart", ["ha_always_run"] = true });
        for (var run = 0; run < 2; run++)
        {
            var replica = await RunAsync(pools, target, vm, full: run == 0);
            var fields = await pools.Target.VmFieldsAsync(replica.Ref);
            Assert.Equal(("", false), ((string?)fields["ha_restart_priority"], (bool?)fields["ha_always_run"]));
            Assert.Contains(XoMetadata.HaDisabledTag, replica.Tags);
        }

        Edit(pools, vm.Uuid, new() { ["ha_restart_priority"] = "", ["ha_always_run"] = false });
        Assert.DoesNotContain(XoMetadata.HaDisabledTag, (await RunAsync(pools, target, vm, full: false)).Tags);
    }

    [Fact]
    public async Task Bios_strings_reach_a_new_replica_and_later_runs_leave_them()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        Edit(pools, vm.Uuid, new()
        {
            ["bios_strings"] = new Dictionary<string, object?>
            {
                ["bios-vendor"] = "Dell Inc.", ["system-serial-number"] = "SN-42", ["hp-rombios"] = "", ["oem-1"] = "Xen",
            },
        });
        for (var run = 0; run < 2; run++)
        {
            var replica = await RunAsync(pools, target, vm, full: run == 0);
            var strings = new FieldReader(await pools.Target.VmFieldsAsync(replica.Ref)).Map("bios_strings");
            Assert.Equal(("Dell Inc.", "SN-42", "HVM domU"),
                (strings["bios-vendor"], strings["system-serial-number"], strings["system-product-name"]));
        }
    }

    /// <summary>Each call of the refresh fails in turn during a delta run that has something to refresh: the run fails,
    /// the pools are left clean (the replica on its previous disks), and the next run is a delta that converges.</summary>
    [Fact]
    public async Task A_refresh_call_that_fails_undoes_the_run_and_the_next_run_converges()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        await RunAsync(pools, target, vm, full: true);
        var network = (await pools.Source.NetworksAsync()).First();
        string[] methods = ["VIF.destroy", "VIF.create", "VM.set_xenstore_data", "VM.set_VCPUs_at_startup", "VM.set_VCPUs_max"];
        for (var round = 0; round < methods.Length; round++)
        {
            // On the source: the VIF replaced by one on another device and MAC, xenstore data and CPUs changed.
            var current = await pools.Source.VmAsync(vm.Ref);
            await pools.Source.DestroyVifAsync(current.Vifs.Single());
            var mac = $"02:00:00:00:01:{round:x2}";
            await pools.Source.CreateVifAsync(new Dictionary<string, object?>
            {
                ["VM"] = vm.Ref, ["network"] = network.Ref, ["device"] = $"{round + 1}", ["MAC"] = mac, ["MTU"] = 1500L,
                ["other_config"] = new Dictionary<string, object?>(), ["qos_algorithm_type"] = "",
                ["qos_algorithm_params"] = new Dictionary<string, object?>(),
            });
            var cpus = round % 2 == 0 ? 2L : 1L;
            Edit(pools, vm.Uuid, new()
            {
                ["xenstore_data"] = new Dictionary<string, object?> { ["round"] = $"{round}" }, ["VCPUs_max"] = cpus,
                ["VCPUs_at_startup"] = cpus,
            });
            pools.TargetSim.Pool.Faults.FailCall(methods[round]);
            var failed = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
            pools.TargetSim.Pool.Faults.Clear();
            Assert.True(failed.Status == RunStatus.Failed, $"{methods[round]}: {failed.Status}");
            await PoolInvariants.AssertCleanAsync(pools, vm.Uuid, current.BlockedOperations);

            await PoolInvariants.AssertNextRunIsExactDeltaAsync(pools, vm.Uuid, target);
            var replica = (await pools.Target.Client.GetAllRecordsAsync<VmRecord>())
                .Single(v => !v.IsASnapshot && v.Tags.Contains(XoMetadata.ReplicaTag));
            var vif = (await VifsAsync(pools.Target, replica)).Single();
            Assert.Equal(($"{round + 1}", mac), (vif.Device, vif.Mac));
            Assert.Equal(($"{round}", cpus, cpus), (replica.XenstoreData["round"], replica.VcpusMax, replica.VcpusAtStartup));
        }
    }

    private static async Task<VmRecord> RunAsync(TwoPools pools, TargetSpec target, VmRecord vm, bool full,
        ReplicationSettings? settings = null)
    {
        pools.CollectGarbage();
        var report = await pools.Replication(settings ?? new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        Assert.Equal(full, report.Full);
        return await pools.Target.VmAsync(await pools.Target.VmRefAsync(report.Targets[0].TargetVmUuid!));
    }

    /// <summary>Changes on the source VM, as if made while it was halted (memory and CPUs need that in XAPI).</summary>
    private static void Edit(TwoPools pools, string vmUuid, Dictionary<string, object?> fields)
    {
        var db = pools.SourceSim.Pool.Db;
        lock (db.Sync)
        {
            var row = db.GetByUuid(Schemas.Vm, vmUuid);
            foreach (var (name, value) in fields)
            {
                db.Set(row, name, value);
            }
        }
    }

    private static async Task<List<VifRecord>> VifsAsync(Pool pool, VmRecord vm)
    {
        var vifs = new List<VifRecord>();
        foreach (var vif in vm.Vifs)
        {
            vifs.Add(await pool.VifAsync(vif));
        }

        return [.. vifs.OrderBy(v => v.Device, StringComparer.Ordinal)];
    }

    private static string Text(object? value) => value switch
    {
        IDictionary<string, object?> map
            => string.Join(',', map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")),
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
