using System.Security.Cryptography;
using XcrCluster.Vhd;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

/// <summary>VDI export and import through the client against the simulator's HTTP data path.</summary>
public sealed class TransferTests
{
    private static async Task<(VmRecord Vm, VdiRecord Disk)> FirstDiskAsync(XapiClient client, string vmName = "tiny01")
    {
        var vm = (await client.GetAllRecordsAsync<VmRecord>()).Single(v => v.NameLabel == vmName);
        foreach (var vbdRef in vm.Vbds)
        {
            var vbd = await client.GetRecordAsync<VbdRecord>(vbdRef);
            if (vbd.IsDisk)
            {
                return (vm, await client.GetRecordAsync<VdiRecord>(vbd.Vdi));
            }
        }

        throw new InvalidOperationException($"{vmName} has no disk");
    }

    private static async Task<byte[]> ReadAllAsync(VdiExport export)
    {
        using var buffer = new MemoryStream();
        await export.Content.CopyToAsync(buffer);
        await export.CompleteAsync();
        return buffer.ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Vhd_export_reads_as_the_same_disk_as_raw_chunked_or_close_delimited(bool closeDelimited)
    {
        await using var sim = await ClientPools.StartAsync();
        sim.Pool.Faults.ChunkedExports = !closeDelimited;
        await using var client = await ClientPools.ConnectAsync(sim);
        var (_, disk) = await FirstDiskAsync(client);
        byte[] raw;
        await using (var export = await client.ExportVdiAsync(disk.Ref, VdiFormat.Raw))
        {
            raw = await ReadAllAsync(export);
        }

        Assert.Equal(disk.VirtualSize, raw.Length);
        await using var vhd = await client.ExportVdiAsync(disk.Ref, VdiFormat.Vhd);
        var reader = await VhdStreamReader.OpenAsync(vhd.Content);
        var image = new byte[reader.VirtualSize];
        await foreach (var block in reader.ReadBlocksAsync())
        {
            var start = (long)block.Index * reader.Header.BlockSize;
            block.Data.Span[..(int)Math.Min(block.Data.Length, image.Length - start)].CopyTo(image.AsSpan((int)start));
        }

        await vhd.CompleteAsync();
        Assert.Equal(SHA256.HashData(raw), SHA256.HashData(image));
        Assert.Equal(vhd.Content.BytesTransferred, reader.Position);
    }

    [Fact]
    public async Task A_delta_export_against_the_previous_snapshot_applies_onto_it()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        var (vm, _) = await FirstDiskAsync(client);
        var first = (string)(await client.CallTaskAsync("VM.snapshot", [vm.Ref, "first"]))!;
        using (var http = new HttpClient())
        {
            var write = await http.PostAsync(new Uri(sim.Url, "sim/guest-write"),
                new StringContent($"{{\"vm\":\"{vm.Uuid}\",\"blocks\":3,\"seed\":5}}", System.Text.Encoding.UTF8, "application/json"));
            write.EnsureSuccessStatusCode();
        }

        var second = (string)(await client.CallTaskAsync("VM.snapshot", [vm.Ref, "second"]))!;
        var (baseDisk, newDisk) = (await SnapshotDiskAsync(client, first), await SnapshotDiskAsync(client, second));
        await using var delta = await client.ExportVdiAsync(newDisk, VdiFormat.Vhd, baseDisk);
        var reader = await VhdStreamReader.OpenAsync(delta.Content);
        Assert.Equal(DiskType.Differencing, reader.Footer.DiskType);
        Assert.Equal(3, reader.PresentBlocks.Count);
        while (await reader.ReadBlockAsync() is not null)
        {
        }

        await delta.CompleteAsync();
    }

    private static async Task<string> SnapshotDiskAsync(XapiClient client, string snapshotVm)
    {
        var record = await client.GetRecordAsync<VmRecord>(snapshotVm);
        foreach (var vbdRef in record.Vbds)
        {
            var vbd = await client.GetRecordAsync<VbdRecord>(vbdRef);
            if (vbd.IsDisk)
            {
                return vbd.Vdi;
            }
        }

        throw new InvalidOperationException("snapshot without disk");
    }

    [Fact]
    public async Task Import_sends_an_exact_length_and_returns_the_vdi_and_the_content_lands()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        var sr = (await client.GetAllRecordsAsync<SrRecord>()).First();
        const long size = 8L * 1024 * 1024;
        var target = (string)(await client.CallAsync("VDI.create", new Dictionary<string, object?>
        {
            ["SR"] = sr.Ref, ["virtual_size"] = size, ["name_label"] = "import", ["type"] = "user", ["sharable"] = false,
            ["read_only"] = false,
            ["other_config"] = new Dictionary<string, object?>(),
        }))!;
        var data = new byte[size];
        new Random(3).NextBytes(data.AsSpan(0, 3 * 1024 * 1024));
        using var body = new MemoryStream();
        var writer = new VhdStreamWriter(body, size, [0, 1]);
        await writer.WriteHeadersAsync();
        await writer.WriteBlockAsync(0, data.AsMemory(0, VhdConstants.DefaultBlockSize));
        await writer.WriteBlockAsync(1, data.AsMemory(VhdConstants.DefaultBlockSize, VhdConstants.DefaultBlockSize));
        await writer.CompleteAsync();
        body.Position = 0;
        long progress = 0;
        var result = await client.ImportVdiAsync(target, body, writer.Length, VdiFormat.Vhd, p => progress = p);
        Assert.Equal(target, result);
        Assert.Equal(writer.Length, progress);
        await using var back = await client.ExportVdiAsync(target, VdiFormat.Raw);
        Assert.Equal(data, await ReadAllAsync(back));
    }

    [Fact]
    public async Task A_connection_reset_mid_export_fails_the_read()
    {
        await using var sim = await ClientPools.StartAsync();
        sim.Pool.Faults.ResetExportAfterBytes = 3 * 1024 * 1024;
        await using var client = await ClientPools.ConnectAsync(sim);
        var (_, disk) = await FirstDiskAsync(client);
        await using var export = await client.ExportVdiAsync(disk.Ref, VdiFormat.Raw);
        await Assert.ThrowsAnyAsync<IOException>(() => export.Content.CopyToAsync(Stream.Null));
        Assert.True(export.Content.BytesTransferred <= 3 * 1024 * 1024);
    }

    [Fact]
    public async Task A_stalled_export_fails_with_a_timeout_instead_of_hanging()
    {
        await using var sim = await ClientPools.StartAsync();
        sim.Pool.Faults.ExportBytesPerSecond = 1;
        var log = new LogCapture();
        await using var client = await ClientPools.ConnectAsync(sim, log.Options() with { StallTimeout = TimeSpan.FromSeconds(1) });
        var (_, disk) = await FirstDiskAsync(client);
        var e = await Assert.ThrowsAsync<TimeoutException>(async () =>
        {
            await using var export = await client.ExportVdiAsync(disk.Ref, VdiFormat.Raw);
            await export.Content.CopyToAsync(Stream.Null);
        });
        Assert.Contains("no data moved", e.Message);
    }

    [Fact]
    public async Task A_stalled_import_fails_with_a_timeout_instead_of_hanging()
    {
        await using var sim = await ClientPools.StartAsync();
        sim.Pool.Faults.ImportBytesPerSecond = 1;
        await using var client = await ClientPools.ConnectAsync(sim, new XapiClientOptions { StallTimeout = TimeSpan.FromSeconds(1) });
        var (_, disk) = await FirstDiskAsync(client);
        var body = new MemoryStream(new byte[16 * 1024 * 1024]);
        await Assert.ThrowsAsync<TimeoutException>(() => client.ImportVdiAsync(disk.Ref, body, body.Length, VdiFormat.Raw));
    }

    [Fact]
    public async Task An_export_redirected_to_the_host_holding_the_disk_is_followed()
    {
        await using var sim = await ClientPools.StartAsync(o => o with { Listen = ["127.0.0.1:0", "127.0.0.2:0"] });
        sim.Pool.Faults.RedirectExports = true;
        var log = new LogCapture();
        await using var client = await ClientPools.ConnectAsync(sim, log.Options());
        var (_, disk) = await FirstDiskAsync(client);
        await using var export = await client.ExportVdiAsync(disk.Ref, VdiFormat.Raw);
        Assert.Equal(disk.VirtualSize, (await ReadAllAsync(export)).Length);
        Assert.Contains(log.Lines, l => l.Contains("redirected to 127.0.0.2", StringComparison.Ordinal));
    }
}
