using System.Net.Sockets;
using System.Text;
using XcrCluster.Xapi.Wire;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>PUT /import of what GET /export wrote (spec xapi-vhd.md X3): the VM arrives Halted with equal disks;
/// a bad checksum or a first member other than ova.xml fails the task with XAPI's error and leaves nothing.</summary>
public sealed class XvaImportTests
{
    private sealed record Target(SimHost Sim, RpcClient Rpc, string Session, string Sr);

    private static async Task<(byte[] Xva, List<string> Checksums)> ExportAsync(SimHost source)
    {
        using var rpc = source.Json();
        var session = await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "db01"))!)[0]!;
        var uuid = (string)(await rpc.CallAsync("VM.get_uuid", vm))!;
        var (status, _, body) = await XvaExportTests.GetAsync(source, $"/export?ref={vm}&session_id={session}");
        Assert.Equal("HTTP/1.1 200 OK", status);
        return (body, await source.DiskChecksumsAsync(uuid));
    }

    private static async Task<Target> TargetAsync(SimHost sim)
    {
        var rpc = sim.Json();
        var session = await rpc.LoginAsync();
        var pool = (string)((List<object?>)(await rpc.CallAsync("pool.get_all"))!)[0]!;
        return new Target(sim, rpc, session, (string)(await rpc.CallAsync("pool.get_default_SR", pool))!);
    }

    /// <summary>PUTs the body on a raw connection, reads the answer to the close, and returns the finished task.</summary>
    private static async Task<Dictionary<string, object?>> ImportAsync(Target target, byte[] xva, string extra = "")
    {
        var task = (string)(await target.Rpc.CallAsync("task.create", "import", ""))!;
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(target.Sim.Url.Host, target.Sim.Url.Port);
            await using var stream = tcp.GetStream();
            var head = $"PUT /import?sr_id={target.Sr}&session_id={target.Session}&task_id={task}{extra} HTTP/1.1\r\n"
                + $"Host: {target.Sim.Url.Authority}\r\nContent-Length: {xva.Length}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            try
            {
                await stream.WriteAsync(xva);
                await stream.CopyToAsync(Stream.Null);
            }
            catch (IOException)
            {
                // A refused import closes the connection without reading the rest.
            }
        }

        await Poll.UntilAsync(async () => (string)(await target.Rpc.RecordAsync("task", task))["status"]! != "pending", "import task");
        return await target.Rpc.RecordAsync("task", task);
    }

    private static Dictionary<string, object?> Counts(SimHost sim)
    {
        lock (sim.Pool.Db.Sync)
        {
            return sim.Pool.Db.Counts();
        }
    }

    /// <summary>Exports db01 from one pool, changes the members as <paramref name="tamper"/> says, imports that into another
    /// pool, and checks the import failed with <paramref name="errorInfo"/> (its first items when not
    /// <paramref name="exact"/>) and left no object behind (its task aside).</summary>
    private static async Task RefusedAsync(Action<List<XvaExportTests.Member>> tamper, bool exact, params string[] errorInfo)
    {
        await using var source = await SimHost.StartAsync();
        await using var sim = await SimHost.StartAsync();
        var (xva, _) = await ExportAsync(source);
        var target = await TargetAsync(sim);
        using var _ = target.Rpc;
        var members = XvaExportTests.ReadTar(xva);
        tamper(members);
        var before = Counts(sim);
        var task = await ImportAsync(target, Tar(members));
        Assert.Equal("failure", task["status"]);
        var info = (List<object?>)task["error_info"]!;
        Assert.Equal(errorInfo, exact ? info : info.Take(errorInfo.Length));
        Assert.Equal(before.Where(c => c.Key != "task"), Counts(sim).Where(c => c.Key != "task"));
    }

    private static byte[] Tar(IEnumerable<XvaExportTests.Member> members)
    {
        var tar = new MemoryStream();
        foreach (var m in members)
        {
            tar.Write(XvaTar.Header(m.Name, m.Data.Length, 0));
            tar.Write(m.Data);
            tar.Write(new byte[XvaTar.Padding(m.Data.Length)]);
        }

        tar.Write(new byte[1024]);
        return tar.ToArray();
    }

    [Fact]
    public async Task Xva_import_creates_a_halted_vm_whose_disks_equal_the_source()
    {
        await using var source = await SimHost.StartAsync();
        await using var sim = await SimHost.StartAsync();
        var (xva, checksums) = await ExportAsync(source);
        var target = await TargetAsync(sim);
        using var _ = target.Rpc;
        var task = await ImportAsync(target, xva);
        Assert.Equal("success", task["status"]);
        var vms = (List<object?>)XmlRpc.DecodeValue((string)task["result"]!)!;
        var vm = await target.Rpc.RecordAsync("VM", (string)Assert.Single(vms)!);
        Assert.Equal("Halted", vm["power_state"]);
        Assert.Equal("db01", vm["name_label"]);
        Assert.Equal(checksums, await sim.DiskChecksumsAsync((string)vm["uuid"]!));
        foreach (var vbd in (List<object?>)vm["VBDs"]!)
        {
            var vdi = (string)(await target.Rpc.CallAsync("VBD.get_VDI", vbd))!;
            Assert.Equal(target.Sr, await target.Rpc.CallAsync("VDI.get_SR", vdi));
        }
    }

    [Fact]
    public Task Xva_import_refuses_a_wrong_checksum_and_leaves_nothing() => RefusedAsync(members =>
    {
        var index = members.FindLastIndex(m => m.Name.EndsWith(".xxhash", StringComparison.Ordinal));
        members[index] = members[index] with { Data = "0000000000000000"u8.ToArray() };
    }, exact: false, "IMPORT_ERROR");

    [Fact]
    public Task Xva_import_refuses_a_first_member_other_than_ova_xml()
        => RefusedAsync(members => members[0] = members[0] with { Name = "./ova.xml" }, exact: true,
            "IMPORT_ERROR_UNEXPECTED_FILE", "ova.xml", "./ova.xml");

    [Fact]
    public async Task Xva_import_takes_sha1_checksum_members_and_force_lets_a_mismatch_through()
    {
        await using var source = await SimHost.StartAsync();
        await using var sim = await SimHost.StartAsync();
        var (xva, checksums) = await ExportAsync(source);
        var target = await TargetAsync(sim);
        using var _ = target.Rpc;
        var members = XvaExportTests.ReadTar(xva);
        // Before xapi v1.170.0 (commit c5c703aa) the member was .checksum: SHA-1 in lowercase hex.
        var sha1 = members.Select((m, i) => !m.Name.EndsWith(".xxhash", StringComparison.Ordinal) ? m
            : new XvaExportTests.Member(m.Name.Replace(".xxhash", ".checksum"), m.Header, Encoding.ASCII.GetBytes(
                Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(members[i - 1].Data)).ToLowerInvariant()))).ToList();
        var task = await ImportAsync(target, Tar(sha1));
        Assert.Equal("success", task["status"]);
        var vm = (string)((List<object?>)XmlRpc.DecodeValue((string)task["result"]!)!)[0]!;
        Assert.Equal(checksums, await sim.DiskChecksumsAsync((string)(await target.Rpc.CallAsync("VM.get_uuid", vm))!));

        var index = members.FindLastIndex(m => m.Name.EndsWith(".xxhash", StringComparison.Ordinal));
        members[index] = members[index] with { Data = "0000000000000000"u8.ToArray() };
        Assert.Equal("success", (await ImportAsync(target, Tar(members), "&force=true"))["status"]);
    }

    [Fact]
    public Task Xva_import_refuses_a_file_from_a_newer_xapi() => RefusedAsync(members =>
    {
        var ova = Encoding.UTF8.GetString(members[0].Data);
        var newer = ova.Replace("<name>xapi_major</name><value>1</value>", "<name>xapi_major</name><value>999</value>");
        Assert.NotEqual(ova, newer);
        members[0] = members[0] with { Data = Encoding.UTF8.GetBytes(newer) };
    }, exact: true, "IMPORT_INCOMPATIBLE_VERSION");
}
