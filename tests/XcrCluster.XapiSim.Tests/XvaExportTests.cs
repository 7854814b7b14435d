using System.Net.Sockets;
using System.Text;
using XcrCluster.Xapi.Wire;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>GET /export as XAPI writes an XVA (spec xapi-vhd.md X1–X3), read back with an independent tar reader
/// and reassembled by the importer's counter algorithm (stream_vdi.ml `recv_all_vdi`).</summary>
public sealed class XvaExportTests
{
    internal sealed record Member(string Name, byte[] Header, byte[] Data);

    /// <summary>Sends one GET and reads to the close; returns the status line, headers and the whole body.</summary>
    internal static async Task<(string Status, List<string> Headers, byte[] Body)> GetAsync(SimHost sim, string pathAndQuery)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(sim.Url.Host, sim.Url.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.1\r\nHost: {sim.Url.Authority}\r\n\r\n"));
        var all = new MemoryStream();
        await stream.CopyToAsync(all);
        var bytes = all.ToArray();
        var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        var lines = Encoding.ASCII.GetString(bytes, 0, end).Split("\r\n").ToList();
        return (lines[0], lines.Skip(1).ToList(), bytes[(end + 4)..]);
    }

    /// <summary>A minimal V7/ustar reader: members until the first zero block, which must be followed by one more
    /// zero block and nothing else.</summary>
    internal static List<Member> ReadTar(byte[] tar)
    {
        Assert.Equal(0, tar.Length % 512);
        var members = new List<Member>();
        var at = 0;
        while (tar.AsSpan(at, 512).ContainsAnyExcept((byte)0))
        {
            var header = tar.AsSpan(at, 512).ToArray();
            var name = Encoding.ASCII.GetString(header, 0, 100).TrimEnd('\0');
            var size = Convert.ToInt64(Encoding.ASCII.GetString(header, 124, 11), 8);
            members.Add(new Member(name, header, tar.AsSpan(at + 512, (int)size).ToArray()));
            at += 512 + (int)((size + 511) / 512 * 512);
        }

        Assert.Equal(at + 1024, tar.Length);
        return members;
    }

    [Fact]
    public void Xva_hash_matches_the_reference_vectors()
    {
        Assert.Equal("EF46DB3751D8E999", XvaTar.XxHashText([]));
        Assert.Equal("87D2A1B6E1163EF1", XvaTar.XxHashText(new byte[1024 * 1024]));
        Assert.Equal("44BC2CF5AD770999", XvaTar.XxHashText("abc"u8));
    }

    [Fact]
    public async Task Xva_export_of_a_halted_vm_reassembles_to_its_disks()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        var session = await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "db01"))!)[0]!;
        var uuid = (string)(await rpc.CallAsync("VM.get_uuid", vm))!;
        var (status, headers, body) = await GetAsync(sim, $"/export?uuid={uuid}&session_id={session}");
        Assert.Equal("HTTP/1.1 200 OK", status);
        Assert.Contains(headers,
            h => h.Equals("Content-Disposition: attachment; filename=\"export.xva\"", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(headers, h => h.StartsWith("Content-Length", StringComparison.OrdinalIgnoreCase));
        var members = ReadTar(body);
        var disks = Reassemble(members);
        Assert.Equal(await sim.DiskChecksumsAsync(uuid), disks.Values.ToList());
        Assert.InRange(members.Count, 5, (2 * 64) - 1); // 64 MiB, partly allocated: some chunks left out
    }

    [Fact]
    public async Task Xva_export_of_a_snapshot_carries_every_disk_sorted_and_skips_the_cd()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        var session = await rpc.LoginAsync();
        var web = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "web01"))!)[0]!;
        var running = await GetAsync(sim, $"/export?ref={web}&session_id={session}");
        Assert.StartsWith("HTTP/1.1 500", running.Status);
        Assert.Contains("VM_BAD_POWER_STATE", Encoding.UTF8.GetString(running.Body));

        var snapshot = (string)(await rpc.CallAsync("VM.snapshot", web, "xva"))!;
        var uuid = (string)(await rpc.CallAsync("VM.get_uuid", snapshot))!;
        var (status, _, body) = await GetAsync(sim, $"/export?ref={snapshot}&session_id={session}");
        Assert.Equal("HTTP/1.1 200 OK", status);
        var members = ReadTar(body);
        var folders = members.Skip(1).Select(m => m.Name[..m.Name.IndexOf('/')]).Distinct().ToList();
        Assert.Equal(folders.Order(StringComparer.Ordinal), folders);
        var disks = Reassemble(members);
        Assert.Equal(2, disks.Count);
        Assert.Equal((await sim.DiskChecksumsAsync(uuid)).Order(), disks.Values.Order());
    }

    /// <summary>Checks the layout and every .xxhash, then rebuilds each VDI as stream_vdi.ml `recv_all_vdi` does:
    /// gaps sized by the first chunk's length, the counter skipping values for omitted chunks.
    /// Returns each VDI's content hash in userdevice order of its VBD.</summary>
    internal static Dictionary<string, string> Reassemble(List<Member> members)
    {
        Assert.Equal("ova.xml", members[0].Name);
        Assert.Equal("0000400\0"u8.ToArray(), members[0].Header[100..108]);
        Assert.All(members, m => Assert.Equal(new byte[8], m.Header[257..265]));
        var ova = (Dictionary<string, object?>)XmlRpc.DecodeValue(Encoding.UTF8.GetString(members[0].Data))!;
        var objects = ((List<object?>)ova["objects"]!).Cast<Dictionary<string, object?>>().ToList();
        var byId = objects.ToDictionary(o => (string)o["id"]!, o => (Dictionary<string, object?>)o["snapshot"]!);
        var vdis = objects.Where(o => (string)o["class"]! == "VDI").ToDictionary(o => (string)o["id"]!,
            o => Convert.ToInt64(((Dictionary<string, object?>)o["snapshot"]!)["virtual_size"]));
        Assert.Single(objects, o => (string)o["class"]! == "VM");
        Assert.All(objects.Where(o => (string)o["class"]! == "VBD"), o => Assert.True(byId.ContainsKey((string)Snap(o)["VM"]!)));

        var images = vdis.ToDictionary(v => v.Key, v => new byte[v.Value]);
        var state = new Dictionary<string, (long Last, long Offset)>();
        long firstLength = -1;
        for (var i = 1; i < members.Count; i += 2)
        {
            var (data, hash) = (members[i], members[i + 1]);
            Assert.Equal(data.Name + ".xxhash", hash.Name);
            Assert.Equal(XvaTar.XxHashText(data.Data), Encoding.ASCII.GetString(hash.Data));
            var slash = data.Name.IndexOf('/');
            var (id, n) = (data.Name[..slash], long.Parse(data.Name[(slash + 1)..]));
            Assert.Equal(8, data.Name.Length - slash - 1);
            firstLength = firstLength < 0 ? data.Data.Length : firstLength;
            var (last, offset) = state.GetValueOrDefault(id, (-1, 0));
            Assert.True(n > last);
            offset += (n - last - 1) * firstLength;
            data.Data.CopyTo(images[id], offset);
            state[id] = (n, offset + data.Data.Length);
            // The raw path leaves out all-zero chunks but the first and the last (stream_vdi.ml `send_one`).
            Assert.True(n == 0 || offset + data.Data.Length == vdis[id] || data.Data.AsSpan().ContainsAnyExcept((byte)0), data.Name);
        }

        Assert.All(vdis, v => Assert.Equal(v.Value, state[v.Key].Offset));
        return vdis.Keys
            .OrderBy(id => objects.Where(o => (string)o["class"]! == "VBD" && (string)Snap(o)["VDI"]! == id)
                .Select(o => int.Parse((string)Snap(o)["userdevice"]!)).Single())
            .ToDictionary(id => id, id => ContentHasher.Of(images[id]));
    }

    private static Dictionary<string, object?> Snap(Dictionary<string, object?> o) => (Dictionary<string, object?>)o["snapshot"]!;

    [Fact]
    public async Task Xva_export_shows_in_the_vms_current_operations_while_it_runs()
    {
        await using var sim = await SimHost.StartAsync();
        using var rpc = sim.Json();
        var session = await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "db01"))!)[0]!;
        // The pace is fixed when the body starts: slow enough to be seen, quick enough to end in a few seconds.
        sim.Pool.Faults.ExportBytesPerSecond = 8L * 1024 * 1024;
        var export = GetAsync(sim, $"/export?ref={vm}&session_id={session}");
        await Poll.UntilAsync(async () => ((Dictionary<string, object?>)(await rpc.CallAsync("VM.get_current_operations", vm))!)
            .ContainsValue("export"), "export in current_operations");
        Assert.Equal("HTTP/1.1 200 OK", (await export).Status);
        Assert.Empty((Dictionary<string, object?>)(await rpc.CallAsync("VM.get_current_operations", vm))!);
    }
}
