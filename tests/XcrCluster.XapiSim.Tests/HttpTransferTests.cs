using System.Net;
using XcrCluster.Vhd;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>/export_raw_vdi and /import_raw_vdi checked with an independent reader (qemu-img) and XAPI's
/// HTTP conventions (headers, authentication, probe, errors).</summary>
public sealed class HttpTransferTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("xcr-transfer-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task A_vhd_export_opens_in_qemu_img_and_equals_the_raw_export()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        foreach (var disk in await SimPools.DisksAsync(client, await SimPools.VmAsync(client, "web01")))
        {
            var vhd = await SimPools.ExportToFileAsync(client, disk.Ref, VdiFormat.Vhd, Path.Combine(dir, disk.Uuid + ".vhd"));
            var raw = await SimPools.ExportToFileAsync(client, disk.Ref, VdiFormat.Raw, Path.Combine(dir, disk.Uuid + ".raw"));
            Assert.Contains("file format: vpc", QemuImg.Run("info", "-f", "vpc", vhd));
            Assert.Equal(disk.VirtualSize, new FileInfo(raw).Length);
            QemuImg.AssertIdenticalToRaw(vhd, raw);
        }
    }

    [Fact]
    public async Task A_delta_export_after_a_guest_write_holds_exactly_the_written_blocks()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var vm = await SimPools.VmAsync(client, "db01");
        var first = await SimPools.SnapshotAsync(client, vm, "first");
        var written = await SimPools.GuestWriteAsync(sim, vm.Uuid, blocks: 5, seed: 11);
        var second = await SimPools.SnapshotAsync(client, vm, "second");
        var baseDisk = (await SimPools.DisksAsync(client, first))[0];
        var newDisk = (await SimPools.DisksAsync(client, second))[0];
        await using var delta = await client.ExportVdiAsync(newDisk.Ref, VdiFormat.Vhd, baseDisk.Ref);
        var reader = await VhdStreamReader.OpenAsync(delta.Content);
        Assert.Equal(DiskType.Differencing, reader.Footer.DiskType);
        Assert.Equal(written, reader.PresentBlocks.Order());
        while (await reader.ReadBlockAsync() is not null)
        {
        }

        await delta.CompleteAsync();
        Assert.Equal(VhdStreamWriter.ComputeLength(newDisk.VirtualSize, written.Count), reader.Position);
    }

    [Fact]
    public async Task A_vhd_made_by_qemu_img_imports_and_exports_raw_as_the_same_bytes()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var disk = (await SimPools.DisksAsync(client, await SimPools.VmAsync(client, "tiny01")))[0];
        var raw = Path.Combine(dir, "source.raw");
        var image = new byte[disk.VirtualSize];
        var rng = new Random(5);
        foreach (var offset in new long[] { 0, 3L << 20, disk.VirtualSize - (1 << 20) })
        {
            rng.NextBytes(image.AsSpan((int)offset, 1 << 20));
        }

        await File.WriteAllBytesAsync(raw, image);
        var vhd = Path.Combine(dir, "qemu.vhd");
        QemuImg.Run("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", raw, vhd);
        // Into a fresh VDI, as XAPI's import assumes (--prezeroed): a VHD carries only the blocks qemu-img allocated.
        var fresh = (string)(await client.CallAsync("VDI.create", new Dictionary<string, object?>
        {
            ["SR"] = disk.Sr, ["virtual_size"] = disk.VirtualSize, ["name_label"] = "imported", ["type"] = "user",
            ["sharable"] = false, ["read_only"] = false, ["other_config"] = new Dictionary<string, object?>(),
        }))!;
        await using (var body = File.OpenRead(vhd))
        {
            Assert.Equal(fresh, await client.ImportVdiAsync(fresh, body, body.Length, VdiFormat.Vhd));
        }

        var back = await SimPools.ExportToFileAsync(client, fresh, VdiFormat.Raw, Path.Combine(dir, "back.raw"));
        Assert.Equal(image, await File.ReadAllBytesAsync(back));
    }

    [Fact]
    public async Task Headers_paths_probe_authentication_and_errors_follow_xapi()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        var session = await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "tiny01"))!)[0]!;
        var vdi = (string)(await rpc.CallAsync("VBD.get_VDI", ((List<object?>)(await rpc.CallAsync("VM.get_VBDs", vm))!)[0]))!;
        var uuid = (string)(await rpc.CallAsync("VDI.get_uuid", vdi))!;
        using var http = new HttpClient { BaseAddress = sim.Url };

        foreach (var path in new[] { "/export_raw_vdi", "/export_raw_vdi/" })
        {
            using var response = await http.GetAsync($"{path}?vdi={uuid}&format=VHD&session_id={session}", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/vhd", response.Content.Headers.ContentType!.ToString());
            Assert.Null(response.Content.Headers.ContentLength);
            Assert.StartsWith("OpaqueRef:", response.Headers.GetValues("task-id").Single());
            Assert.Contains($"{uuid}.vhd", response.Content.Headers.ContentDisposition!.ToString());
        }

        var before = GuestWorkload.Checksum(sim.Pool, uuid);
        using (var probe = await http.PutAsync($"/import_raw_vdi/?vdi={vdi}&format=vhd&session_id={session}", new ByteArrayContent([])))
        {
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
            Assert.Equal("application/octet-stream", probe.Content.Headers.ContentType!.ToString());
        }

        Assert.Equal(before, GuestWorkload.Checksum(sim.Pool, uuid));

        var task = (string)(await rpc.CallAsync("task.create", "export", ""))!;
        using (var denied = await http.GetAsync($"/export_raw_vdi/?vdi={vdi}&session_id=OpaqueRef:bad&task_id={task}"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
            Assert.StartsWith("Basic realm=", denied.Headers.WwwAuthenticate.ToString());
        }

        Assert.Equal("SESSION_AUTHENTICATION_FAILED", ((List<object?>)(await rpc.CallAsync("task.get_error_info", task))!)[0]);
        using (var basic = new HttpRequestMessage(HttpMethod.Get, $"/export_raw_vdi/?vdi={vdi}&format=raw"))
        {
            basic.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String("root:password"u8.ToArray()));
            using var response = await http.SendAsync(basic);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Convert.ToInt64(await rpc.CallAsync("VDI.get_virtual_size", vdi)), (await response.Content.ReadAsByteArrayAsync()).Length);
        }

        var missing = (string)(await rpc.CallAsync("task.create", "export", ""))!;
        using (var response = await http.GetAsync($"/export_raw_vdi/?vdi=OpaqueRef:nothing&session_id={session}&task_id={missing}"))
        {
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(["HANDLE_INVALID", "VDI", "OpaqueRef:nothing"], ((List<object?>)(await rpc.CallAsync("task.get_error_info", missing))!).Cast<string>());
        using (var response = await http.GetAsync($"/export_raw_vdi/?vdi={vdi}&format=qcow7&session_id={session}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using (var chunked = new HttpRequestMessage(HttpMethod.Put, $"/import_raw_vdi/?vdi={vdi}&format=raw&session_id={session}") { Content = new StreamContent(new MemoryStream(new byte[4096])) })
        {
            chunked.Headers.TransferEncodingChunked = true;
            using var response = await http.SendAsync(chunked);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal(before, GuestWorkload.Checksum(sim.Pool, uuid));
    }

    [Fact]
    public async Task Concurrent_exports_of_different_disks_each_read_their_own_content()
    {
        await using var sim = await SimHost.StartAsync();
        await using var client = await SimPools.ConnectAsync(sim);
        var disks = new List<Xapi.Records.VdiRecord>();
        foreach (var name in new[] { "web01", "db01", "tiny01" })
        {
            disks.AddRange(await SimPools.DisksAsync(client, await SimPools.VmAsync(client, name)));
        }

        var files = await Task.WhenAll(disks.Select(d => SimPools.ExportToFileAsync(client, d.Ref, VdiFormat.Raw, Path.Combine(dir, d.Uuid + ".raw"))));
        for (var i = 0; i < disks.Count; i++)
        {
            var hash = ContentHasher.Of(await File.ReadAllBytesAsync(files[i]));
            Assert.Equal(GuestWorkload.Checksum(sim.Pool, disks[i].Uuid), hash);
        }
    }
}
