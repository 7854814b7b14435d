using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>SR storage as a file-based XCP-ng SR keeps it: chains of VHD files with hidden base copies, the
/// garbage collector that coalesces them, real utilisation, and a full SR that leaves nothing half-made.</summary>
public sealed class StorageTests
{
    private static string? Parent(VdiRecord vdi) => vdi.SmConfig.TryGetValue("vhd-parent", out var p) ? p : null;

    private static async Task<Dictionary<string, VdiRecord>> VdisByUuidAsync(XapiClient client) => (await client.GetAllRecordsAsync<VdiRecord>()).ToDictionary(v => v.Uuid);

    /// <summary>Number of files in a VDI's chain, following sm_config vhd-parent.</summary>
    private static int Depth(Dictionary<string, VdiRecord> vdis, VdiRecord vdi)
    {
        var depth = 1;
        for (var p = Parent(vdi); p is not null; p = Parent(vdis[p]))
        {
            depth++;
        }

        return depth;
    }

    [Fact]
    public async Task A_snapshot_turns_the_disk_into_a_hidden_base_copy_with_two_children_and_a_deleted_snapshot_is_coalesced()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var vm = await SimPools.VmAsync(client, "db01");
        var disk = (await SimPools.DisksAsync(client, vm))[0];
        var content = GuestWorkload.Checksum(sim.Pool, disk.Uuid);
        var snapshot = await SimPools.SnapshotAsync(client, vm, "s");
        var snapDisk = (await SimPools.DisksAsync(client, snapshot))[0];
        var vdis = await VdisByUuidAsync(client);
        var leaf = vdis[disk.Uuid];
        var baseCopy = vdis[Parent(leaf)!];
        Assert.Equal(baseCopy.Uuid, Parent(vdis[snapDisk.Uuid]));
        Assert.False(baseCopy.Managed);
        Assert.True(baseCopy.ReadOnly);
        Assert.True(vdis[snapDisk.Uuid].IsASnapshot);
        Assert.Equal(disk.Ref, vdis[snapDisk.Uuid].SnapshotOf);
        Assert.Equal(content, GuestWorkload.Checksum(sim.Pool, snapDisk.Uuid));
        Assert.Single(Directory.GetFiles(sim.DataDir, baseCopy.Uuid + ".vhd", SearchOption.AllDirectories));

        // Deleting the snapshot leaves the base copy with one child: "unhealthy" until the collector runs.
        await client.CallAsync("VM.destroy", snapshot.Ref);
        await client.CallAsync("VDI.destroy", snapDisk.Ref);
        vdis = await VdisByUuidAsync(client);
        Assert.Contains(vdis.Values, v => !v.Managed && vdis.Values.Count(c => Parent(c) == v.Uuid) == 1);
        Assert.Equal(1, sim.Pool.Collector.RunOnce());
        vdis = await VdisByUuidAsync(client);
        Assert.DoesNotContain(vdis.Values, v => !v.Managed);
        Assert.Null(Parent(vdis[disk.Uuid]));
        Assert.Equal(content, GuestWorkload.Checksum(sim.Pool, disk.Uuid));
    }

    [Fact]
    public async Task Two_hundred_snapshot_and_delete_cycles_keep_every_chain_shallow()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var vm = await SimPools.VmAsync(client, "tiny01");
        var disk = (await SimPools.DisksAsync(client, vm))[0];
        VmRecord? previous = null;
        for (var cycle = 0; cycle < 200; cycle++)
        {
            GuestWorkload.Write(sim.Pool, vm.Uuid, 0, 1, cycle);
            var snapshot = await SimPools.SnapshotAsync(client, vm, $"cycle {cycle}");
            if (previous is not null)
            {
                var old = (await SimPools.DisksAsync(client, previous))[0];
                await client.CallAsync("VM.destroy", previous.Ref);
                await client.CallAsync("VDI.destroy", old.Ref);
            }

            previous = snapshot;
            sim.Pool.Collector.RunOnce();
            var vdis = await VdisByUuidAsync(client);
            Assert.True(Depth(vdis, vdis[disk.Uuid]) <= 3, $"cycle {cycle}: depth {Depth(vdis, vdis[disk.Uuid])}");
        }

        var files = Directory.GetFiles(sim.DataDir, "*.vhd", SearchOption.AllDirectories);
        var rows = (await client.GetAllRecordsAsync<VdiRecord>()).Count;
        Assert.Equal(rows, files.Length);
    }

    [Fact]
    public async Task Destroy_frees_files_nothing_references_and_utilisation_is_the_real_file_size()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var sr = (await client.GetAllRecordsAsync<SrRecord>()).Single(s => s.NameLabel == "Second storage");
        var srDir = Path.Combine(sim.DataDir, "sr", sr.Uuid);
        var vdi = (string)(await client.CallAsync("VDI.create", new Dictionary<string, object?>
        {
            ["SR"] = sr.Ref, ["virtual_size"] = 32L << 20, ["name_label"] = "u", ["type"] = "user", ["sharable"] = false, ["read_only"] = false,
            ["other_config"] = new Dictionary<string, object?>(),
        }))!;
        var bytes = new byte[16 << 20];
        new Random(1).NextBytes(bytes);
        var data = new MemoryStream(bytes);
        await client.ImportVdiAsync(vdi, data, data.Length, VdiFormat.Raw);
        var used = Directory.GetFiles(srDir, "*.vhd").Sum(f => new FileInfo(f).Length);
        Assert.True(used > 16 << 20);
        Assert.Equal(used, (await client.GetRecordAsync<SrRecord>(sr.Ref)).PhysicalUtilisation);
        Assert.Equal(used, (await client.GetRecordAsync<VdiRecord>(vdi)).PhysicalUtilisation);

        var clone = (string)(await client.CallAsync("VDI.clone", vdi))!;
        await client.CallAsync("VDI.destroy", vdi);
        Assert.Equal(2, Directory.GetFiles(srDir, "*.vhd").Length); // the base copy and the clone
        await client.CallAsync("VDI.destroy", clone);
        sim.Pool.Collector.RunOnce();
        Assert.Empty(Directory.GetFiles(srDir, "*.vhd"));
        Assert.Equal(0, (await client.GetRecordAsync<SrRecord>(sr.Ref)).PhysicalUtilisation);
    }

    [Fact]
    public async Task A_full_sr_fails_snapshot_copy_create_and_import_and_leaves_nothing_behind()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var vm = await SimPools.VmAsync(client, "db01");
        var disk = (await SimPools.DisksAsync(client, vm))[0];
        var second = (await client.GetAllRecordsAsync<SrRecord>()).Single(s => s.NameLabel == "Second storage");
        var rows = (await client.GetAllRecordsAsync<VmRecord>()).Count + (await client.GetAllRecordsAsync<VdiRecord>()).Count;
        var files = Directory.GetFiles(sim.DataDir, "*.vhd", SearchOption.AllDirectories).Order().ToList();
        var content = GuestWorkload.Checksum(sim.Pool, disk.Uuid);
        sim.Pool.Faults.SrFull = true;
        await AssertFullAsync(() => client.CallAsync("VM.snapshot", vm.Ref, "x"));
        await AssertFullAsync(() => client.CallAsync("VM.copy", vm.Ref, "x", second.Ref));
        await AssertFullAsync(() => client.CallAsync("VDI.create", new Dictionary<string, object?> { ["SR"] = second.Ref, ["virtual_size"] = 1L << 20, ["type"] = "user" }));
        var body = new MemoryStream(new byte[4 << 20]);
        await AssertFullAsync(() => client.ImportVdiAsync(disk.Ref, body, body.Length, VdiFormat.Raw));
        Assert.Equal(rows, (await client.GetAllRecordsAsync<VmRecord>()).Count + (await client.GetAllRecordsAsync<VdiRecord>()).Count);
        Assert.Equal(files, Directory.GetFiles(sim.DataDir, "*.vhd", SearchOption.AllDirectories).Order());
        Assert.Equal(content, GuestWorkload.Checksum(sim.Pool, disk.Uuid));
    }

    private static async Task AssertFullAsync(Func<Task> action)
        => Assert.Equal("SR_BACKEND_FAILURE_44", (await Assert.ThrowsAsync<XapiException>(action)).Code);
}
