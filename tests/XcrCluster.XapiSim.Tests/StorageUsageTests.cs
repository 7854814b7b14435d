using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The SR and VDI usage fields and the VDI chain index, kept as they change (O(change) per call), hold what a
/// scan of every row and every file of the SR would give: each VDI's physical_utilisation its file's size, the SR's
/// physical_utilisation the bytes of all its files, its virtual_allocation the virtual sizes of its managed VDIs,
/// and each VDI's children those whose sm_config vhd-parent names it.</summary>
public sealed class StorageUsageTests
{
    [Fact]
    public async Task Usage_and_children_match_a_scan_after_imports_snapshots_clones_copies_guest_writes_destroys_and_collection()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var vm = await SimPools.VmAsync(client, "db01");
        var disk = (await SimPools.DisksAsync(client, vm))[0];
        AssertMatchesScan(sim);

        var snapshot = await SimPools.SnapshotAsync(client, vm, "s1");
        await SimPools.GuestWriteAsync(sim, vm.Uuid, 3, seed: 5);
        AssertMatchesScan(sim);

        var clone = (string)(await client.CallAsync("VDI.clone", disk.Ref))!;
        // VDI.resize leaves the SR's fields to the next call that refreshes them (as before): the import here.
        await client.CallAsync("VDI.resize", clone, disk.VirtualSize + (4 << 20));
        var bytes = new byte[4 << 20];
        new Random(3).NextBytes(bytes);
        await client.ImportVdiAsync(clone, new MemoryStream(bytes), bytes.Length, VdiFormat.Raw);
        AssertMatchesScan(sim);

        var copy = (string)(await client.CallTaskAsync("VM.copy", [snapshot.Ref, "copy", disk.Sr]))!;
        var snapDisks = await SimPools.DisksAsync(client, snapshot);
        await client.CallAsync("VM.destroy", snapshot.Ref);
        foreach (var snapDisk in snapDisks)
        {
            await client.CallAsync("VDI.destroy", snapDisk.Ref);
        }

        await client.CallAsync("VDI.destroy", clone);
        AssertMatchesScan(sim);
        while (sim.Pool.Collector.RunOnce() > 0)
        {
            AssertMatchesScan(sim);
        }

        Assert.NotEmpty(await SimPools.DisksAsync(client, await client.GetRecordAsync<VmRecord>(copy)));
        AssertMatchesScan(sim);
    }

    private static void AssertMatchesScan(SimHost sim)
    {
        var pool = sim.Pool;
        lock (pool.Db.Sync)
        {
            var vdis = pool.Db.All(Schemas.Vdi).ToList();
            foreach (var sr in pool.Db.All(Schemas.Sr))
            {
                var storage = pool.StorageOf(sr);
                var onSr = vdis.Where(v => v.Str("SR") == sr.Ref).ToList();
                var files = storage.IsNull ? [] : Directory.GetFiles(storage.Dir, "*.vhd").Select(f => new FileInfo(f)).ToList();
                Assert.Equal(files.Sum(f => f.Length), sr.Int("physical_utilisation"));
                Assert.Equal(onSr.Where(v => v.Bool("managed")).Sum(v => v.Int("virtual_size")), sr.Int("virtual_allocation"));
                foreach (var vdi in onSr)
                {
                    var file = files.SingleOrDefault(f => f.Name == vdi.Str("location") + ".vhd");
                    Assert.Equal(file?.Length ?? 0, vdi.Int("physical_utilisation"));
                }
            }

            foreach (var vdi in vdis)
            {
                var scanned = vdis.Where(v => v.MapValue("sm_config", Vdis.VhdParent) == vdi.Uuid).Select(v => v.Ref);
                Assert.Equal(scanned, Vdis.Children(pool, vdi.Uuid).Select(v => v.Ref));
            }
        }
    }
}
