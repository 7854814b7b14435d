using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.XapiSim.Tests;

/// <summary>Xen Orchestra's real seed tool (`xo-cr-seed` from @xen-orchestra/cr-seed-cli 1.0.2) run against two
/// simulated pools, with a seed built the XAPI way (VDI.create + PUT /import_raw_vdi + VM.create + VBD.create);
/// it must leave exactly the metadata of xo-cr-semantics.md §10.</summary>
[Collection("processes")]
public sealed class XoCrSeedTests
{
    private const string Blocked = "Start operation for this vm is blocked, clone it if you want to use it.";

    [Fact]
    public async Task Xo_cr_seed_leaves_the_documented_metadata_on_both_pools()
    {
        await using var sourceSim = await SimHost.StartAsync();
        await using var targetSim = await SimHost.StartAsync();
        await using var source = await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:password@{sourceSim.Url.Authority}"));
        await using var target = await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:password@{targetSim.Url.Authority}"));

        var vm = (await source.GetAllRecordsAsync<VmRecord>()).Single(v => v.NameLabel == "web01");
        var snapshot = await source.GetRecordAsync<VmRecord>((string)(await source.CallTaskAsync("VM.snapshot", [vm.Ref, "seed"]))!);
        var sourceDisks = await DisksAsync(source, snapshot);
        var targetSr = (await target.GetAllRecordsAsync<SrRecord>()).First(s => s.NameLabel == "Second storage");
        var seed = await BuildSeedAsync(source, target, snapshot, sourceDisks, targetSr);
        var seedUuid = (await target.GetRecordAsync<VmRecord>(seed)).Uuid;

        var jobId = Guid.NewGuid().ToString();
        var scheduleId = Guid.NewGuid().ToString();
        var (code, stdout, stderr) = await NodeTool.RunAsync("node_modules/.bin/xo-cr-seed", TimeSpan.FromSeconds(90),
            $"http://root:password@{sourceSim.Url.Authority}", snapshot.Uuid, $"http://root:password@{targetSim.Url.Authority}", seedUuid, jobId, scheduleId);
        Assert.True(code == 0 && !stderr.Contains("Fatal error", StringComparison.Ordinal), $"xo-cr-seed exited {code}: {stdout}{stderr}");

        // The source snapshot: the four backup keys and "exported"; nothing on its VDIs.
        var snapshotAfter = await source.GetRecordAsync<VmRecord>(snapshot.Ref);
        var snapshotTime = (string)(await source.CallAsync("VM.get_snapshot_time", snapshot.Ref))!;
        Assert.Matches("^[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", snapshotTime);
        var metadata = new Dictionary<string, string>
        {
            ["xo:backup:datetime"] = snapshotTime,
            ["xo:backup:job"] = jobId,
            ["xo:backup:schedule"] = scheduleId,
            ["xo:backup:vm"] = vm.Uuid,
        };
        Assert.Equal(Sorted(metadata, ("xo:backup:exported", "true")), Sorted(snapshotAfter.OtherConfig));
        foreach (var disk in sourceDisks.Values)
        {
            Assert.Equal(Sorted(disk.OtherConfig), Sorted((await source.GetRecordAsync<VdiRecord>(disk.Ref)).OtherConfig));
        }

        // The target VM: renamed, the keys plus sr and copy_of, start and start_on blocked.
        var seedAfter = await target.GetRecordAsync<VmRecord>(seed);
        Assert.Equal($"web01 ({snapshotTime})", seedAfter.NameLabel);
        Assert.Equal(Sorted(metadata, ("xo:backup:sr", targetSr.Uuid), ("xo:copy_of", snapshot.Uuid)), Sorted(seedAfter.OtherConfig));
        Assert.Equal(Sorted(new Dictionary<string, string> { ["start"] = Blocked, ["start_on"] = Blocked }), Sorted(seedAfter.BlockedOperations));

        // Each target disk, matched by userdevice: xo:copy_of = the source snapshot's VDI, and nothing else.
        var targetDisks = await DisksAsync(target, seedAfter);
        Assert.Equal(sourceDisks.Keys.Order(), targetDisks.Keys.Order());
        foreach (var (userdevice, disk) in targetDisks)
        {
            Assert.Equal(Sorted(new Dictionary<string, string> { ["xo:copy_of"] = sourceDisks[userdevice].Uuid }), Sorted(disk.OtherConfig));
        }
    }

    /// <summary>The seed document's procedure minus the XVA file: same disks, same userdevices, same content.</summary>
    private static async Task<string> BuildSeedAsync(XapiClient source, XapiClient target, VmRecord snapshot, Dictionary<string, VdiRecord> disks, SrRecord sr)
    {
        var seed = (string)(await target.CallAsync("VM.create", new Dictionary<string, object?>
        {
            ["name_label"] = snapshot.NameLabel, ["memory_static_max"] = snapshot.MemoryStaticMax, ["memory_dynamic_max"] = snapshot.MemoryStaticMax,
            ["VCPUs_max"] = 1L, ["VCPUs_at_startup"] = 1L, ["is_a_template"] = false,
        }))!;
        foreach (var (userdevice, disk) in disks)
        {
            var vdi = (string)(await target.CallAsync("VDI.create", new Dictionary<string, object?>
            {
                ["SR"] = sr.Ref, ["virtual_size"] = disk.VirtualSize, ["name_label"] = disk.NameLabel, ["type"] = "user",
                ["sharable"] = false, ["read_only"] = false, ["other_config"] = new Dictionary<string, object?>(),
            }))!;
            await using (var export = await source.ExportVdiAsync(disk.Ref, VdiFormat.Vhd))
            {
                var length = await CountAsync(source, disk.Ref);
                await target.ImportVdiAsync(vdi, export.Content, length, VdiFormat.Vhd);
                await export.CompleteAsync();
            }

            await target.CallAsync("VBD.create", new Dictionary<string, object?>
            {
                ["VM"] = seed, ["VDI"] = vdi, ["userdevice"] = userdevice, ["type"] = "Disk", ["mode"] = "RW", ["bootable"] = userdevice == "0",
                ["empty"] = false, ["other_config"] = new Dictionary<string, object?>(),
            });
        }

        return seed;
    }

    /// <summary>The exact length of a VHD export, as XO computes it before an import (it needs Content-Length).</summary>
    private static async Task<long> CountAsync(XapiClient client, string vdi)
    {
        await using var export = await client.ExportVdiAsync(vdi, VdiFormat.Vhd);
        await export.Content.CopyToAsync(Stream.Null);
        await export.CompleteAsync();
        return export.Content.BytesTransferred;
    }

    private static async Task<Dictionary<string, VdiRecord>> DisksAsync(XapiClient client, VmRecord vm)
    {
        var disks = new Dictionary<string, VdiRecord>();
        foreach (var vbdRef in vm.Vbds)
        {
            var vbd = await client.GetRecordAsync<VbdRecord>(vbdRef);
            if (vbd.IsDisk)
            {
                disks[vbd.Userdevice] = await client.GetRecordAsync<VdiRecord>(vbd.Vdi);
            }
        }

        return disks;
    }

    private static List<KeyValuePair<string, string>> Sorted(IReadOnlyDictionary<string, string> map, params (string Key, string Value)[] extra)
        => map.Concat(extra.Select(e => KeyValuePair.Create(e.Key, e.Value))).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
}
