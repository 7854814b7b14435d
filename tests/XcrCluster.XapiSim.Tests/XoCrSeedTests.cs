using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.XapiSim.Tests;

/// <summary>Xen Orchestra's real seed tool (`xo-cr-seed` from @xen-orchestra/cr-seed-cli 1.0.2) run against two
/// simulated pools, with a seed built the XAPI way (VDI.create + PUT /import_raw_vdi + VM.create + VBD.create);
/// it must leave exactly the metadata of docs/xen-orchestra.md §16.</summary>
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
        var sourceDisks = await Seeds.DisksAsync(source, snapshot);
        var targetSr = (await target.GetAllRecordsAsync<SrRecord>()).First(s => s.NameLabel == "Second storage");
        var seedUuid = await Seeds.BuildAsync(source, target, snapshot, targetSr);
        var seed = await target.GetRefByUuidAsync<VmRecord>(seedUuid);

        var jobId = Guid.NewGuid().ToString();
        var scheduleId = Guid.NewGuid().ToString();
        await Seeds.RunXoCrSeedAsync(sourceSim.Url, snapshot.Uuid, targetSim.Url, seedUuid, jobId, scheduleId);

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
        var targetDisks = await Seeds.DisksAsync(target, seedAfter);
        Assert.Equal(sourceDisks.Keys.Order(), targetDisks.Keys.Order());
        foreach (var (userdevice, disk) in targetDisks)
        {
            Assert.Equal(Sorted(new Dictionary<string, string> { ["xo:copy_of"] = sourceDisks[userdevice].Uuid }), Sorted(disk.OtherConfig));
        }
    }

    private static List<KeyValuePair<string, string>> Sorted(IReadOnlyDictionary<string, string> map, params (string Key, string Value)[] extra)
        => map.Concat(extra.Select(e => KeyValuePair.Create(e.Key, e.Value))).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
}
