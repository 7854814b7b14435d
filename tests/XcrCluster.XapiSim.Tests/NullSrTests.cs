using XcrCluster.Vhd;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The null SR (SR.type "null"): imports are read, parsed and hashed, nothing is stored, and every
/// structural operation works on records alone.</summary>
public sealed class NullSrTests
{
    private const long MiB = 1024 * 1024;

    /// <summary>"source" sits on the file SR with random content; "sink" has a disk of the same size on the null SR.</summary>
    private static Task<SimHost> StartAsync() => SimHost.StartAsync(o => o with
    {
        Fixture = SimHost.SmallFixture with
        {
            Srs = [new FixtureSr("Local storage", 100L << 30), new FixtureSr("Null storage", 100L << 30, Type: "null")],
            Vms =
            [
                new FixtureVm("source", Disks: [new FixtureDisk(17 * MiB + 512, Fill: new DiskFill("random", 4, 0.5))]),
                new FixtureVm("sink", Disks: [new FixtureDisk(17 * MiB + 512, Sr: "Null storage")]),
            ],
        },
    });

    private static async Task<(VdiRecord Source, VdiRecord Sink)> DisksAsync(XapiClient client)
        => ((await SimPools.DisksAsync(client, await SimPools.VmAsync(client, "source")))[0],
            (await SimPools.DisksAsync(client, await SimPools.VmAsync(client, "sink")))[0]);

    private static async Task<byte[]> ExportAsync(XapiClient client, string vdi, VdiFormat format)
    {
        await using var export = await client.ExportVdiAsync(vdi, format);
        var memory = new MemoryStream();
        await export.Content.CopyToAsync(memory);
        await export.CompleteAsync();
        return memory.ToArray();
    }

    private static Task ImportAsync(XapiClient client, string vdi, byte[] body, VdiFormat format)
        => client.ImportVdiAsync(vdi, new MemoryStream(body), body.Length, format);

    private static string NullSrDir(SimHost sim, VdiRecord vdi)
        => Path.Combine(sim.DataDir, "sr", sim.Pool.Db.Get(Model.Schemas.Sr, vdi.Sr).Uuid);

    [Fact]
    public async Task A_full_vhd_or_raw_import_hashes_as_the_source_disk_is_counted_and_writes_nothing()
    {
        await using var sim = await StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var (source, sink) = await DisksAsync(client);
        var expected = GuestWorkload.Checksum(sim.Pool, source.Uuid);
        Assert.NotEqual(expected, sim.Pool.NullSrChecksum(sink.Uuid));
        foreach (var format in new[] { VdiFormat.Vhd, VdiFormat.Raw })
        {
            var body = await ExportAsync(client, source.Ref, format);
            var before = sim.Pool.Stats.BytesImported("/import_raw_vdi");
            await ImportAsync(client, sink.Ref, body, format);
            Assert.Equal(expected, sim.Pool.NullSrChecksum(sink.Uuid));
            Assert.Equal(body.Length, sim.Pool.Stats.BytesImported("/import_raw_vdi") - before);
            await ImportAsync(client, sink.Ref, new byte[sink.VirtualSize], VdiFormat.Raw);
            Assert.Equal(NullContent.Zeros(sink.VirtualSize).Hash, sim.Pool.NullSrChecksum(sink.Uuid));
        }

        Assert.False(Directory.Exists(NullSrDir(sim, sink)));
        Assert.Empty(Directory.GetFiles(sim.DataDir, sink.Uuid + "*", SearchOption.AllDirectories));
        Assert.Equal(0, (await client.GetRecordAsync<VdiRecord>(sink.Ref)).PhysicalUtilisation);
    }

    [Fact]
    public async Task Blocks_sent_out_of_index_order_hash_as_the_disk_they_describe()
    {
        await using var sim = await StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var (source, sink) = await DisksAsync(client);
        var body = await ExportAsync(client, source.Ref, VdiFormat.Vhd);
        var reader = await VhdStreamReader.OpenAsync(new MemoryStream(body));
        Assert.True(reader.PresentBlocks.Count > 2);

        // The same blocks with the BAT pointing at them in reverse physical order.
        var bat = reader.Bat;
        var order = reader.PresentBlocks;
        var offsets = order.Select(i => bat[i]).ToList();
        var reversed = (byte[])body.Clone();
        var blockBytes = (int)reader.Header.BlockTotalSize;
        for (var k = 0; k < order.Count; k++)
        {
            var to = offsets[order.Count - 1 - k];
            body.AsSpan((int)(offsets[k] * 512L), blockBytes).CopyTo(reversed.AsSpan((int)(to * 512L), blockBytes));
            var entry = reversed.AsSpan((int)(reader.Header.TableOffset + (4L * order[k])));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(entry, to);
        }

        Assert.Equal(order.Reverse(), (await VhdStreamReader.OpenAsync(new MemoryStream(reversed))).PresentBlocks);
        await ImportAsync(client, sink.Ref, reversed, VdiFormat.Vhd);
        Assert.Equal(GuestWorkload.Checksum(sim.Pool, source.Uuid), sim.Pool.NullSrChecksum(sink.Uuid));
    }

    [Fact]
    public async Task A_malformed_vhd_is_refused_as_on_a_file_sr_and_changes_nothing()
    {
        await using var sim = await StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var (source, sink) = await DisksAsync(client);
        var good = await ExportAsync(client, source.Ref, VdiFormat.Vhd);
        var badHeader = (byte[])good.Clone();
        badHeader[VhdConstants.HeaderOffset + 8] ^= 0xFF; // data offset, under the header checksum
        var truncated = good[..^VhdConstants.FooterSize];
        var zeros = sim.Pool.NullSrChecksum(sink.Uuid);
        var fileContent = GuestWorkload.Checksum(sim.Pool, source.Uuid);
        foreach (var body in new[] { badHeader, truncated })
        {
            foreach (var vdi in new[] { source, sink })
            {
                var e = await Assert.ThrowsAsync<XapiException>(() => ImportAsync(client, vdi.Ref, body, VdiFormat.Vhd));
                Assert.Equal("VDI_IO_ERROR", e.Code);
            }

            Assert.Equal(zeros, sim.Pool.NullSrChecksum(sink.Uuid));
            Assert.Equal(fileContent, GuestWorkload.Checksum(sim.Pool, source.Uuid));
        }
    }

    [Fact]
    public async Task Snapshot_clone_copy_export_resize_and_destroy_work_on_records_alone()
    {
        await using var sim = await StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var (source, sink) = await DisksAsync(client);
        var content = GuestWorkload.Checksum(sim.Pool, source.Uuid);
        await ImportAsync(client, sink.Ref, await ExportAsync(client, source.Ref, VdiFormat.Vhd), VdiFormat.Vhd);
        var vm = await SimPools.VmAsync(client, "sink");
        var nullSr = sink.Sr;

        var snapshot = await SimPools.SnapshotAsync(client, vm, "s");
        var snapDisk = (await SimPools.DisksAsync(client, snapshot))[0];
        var clone = await client.GetRecordAsync<VdiRecord>((string)(await client.CallAsync("VDI.clone", sink.Ref))!);
        var copyRef = (string)(await client.CallTaskAsync("VM.copy", [snapshot.Ref, "copy", nullSr]))!;
        var copyDisk = (await SimPools.DisksAsync(client, await client.GetRecordAsync<VmRecord>(copyRef)))[0];
        var toFile = (string)(await client.CallTaskAsync("VM.copy", [snapshot.Ref, "to file", source.Sr]))!;
        var fileDisk = (await SimPools.DisksAsync(client, await client.GetRecordAsync<VmRecord>(toFile)))[0];
        foreach (var disk in new[] { sink, snapDisk, clone, copyDisk })
        {
            Assert.Equal(nullSr, disk.Sr);
            Assert.Equal(content, sim.Pool.NullSrChecksum(disk.Uuid));
        }

        // A null SR reads as zeros: exports and copies elsewhere see an empty disk.
        Assert.Equal(NullContent.Zeros(sink.VirtualSize).Hash, GuestWorkload.Checksum(sim.Pool, fileDisk.Uuid));
        Assert.Equal(new byte[sink.VirtualSize], await ExportAsync(client, sink.Ref, VdiFormat.Raw));
        Assert.Empty((await VhdStreamReader.OpenAsync(new MemoryStream(await ExportAsync(client, sink.Ref, VdiFormat.Vhd)))).PresentBlocks);

        await client.CallAsync("VDI.resize", clone.Ref, clone.VirtualSize + (2 * MiB));
        Assert.Equal("", sim.Pool.NullSrChecksum(clone.Uuid));
        await client.CallAsync("VM.destroy", snapshot.Ref);
        await client.CallAsync("VDI.destroy", snapDisk.Ref);
        await client.CallAsync("VDI.destroy", clone.Ref);
        while (sim.Pool.Collector.RunOnce() > 0)
        {
        }

        var left = (await client.GetAllRecordsAsync<VdiRecord>()).Where(v => v.Sr == nullSr).ToList();
        Assert.DoesNotContain(left, v => !v.Managed);
        Assert.Equal(content, sim.Pool.NullSrChecksum(sink.Uuid));
        Assert.False(Directory.Exists(NullSrDir(sim, sink)));
    }
}
