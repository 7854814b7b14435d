using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace XcrCluster.XapiSim.Tests;

/// <summary>GET /export_raw_vdi byte for byte on a socket: by default as export_raw_vdi.ml answers (HTTP/1.1 200,
/// Connection: close, neither Content-Length nor Transfer-Encoding, the body ended by a clean close), over
/// HTTP and HTTPS; chunked only with chunkedExports.</summary>
public sealed class ExportWireTests
{
    private sealed record Answer(string StatusLine, List<string> Headers, long BodyLength, byte[] BodyStart);

    /// <summary>Sends one GET on a new connection and reads until the server closes it (a reset throws).</summary>
    private static async Task<Answer> GetAsync(SimHost sim, string pathAndQuery)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(sim.Url.Host, sim.Url.Port);
        Stream stream = tcp.GetStream();
        if (sim.Url.Scheme == "https")
        {
            var tls = new SslStream(stream, false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync("127.0.0.1");
            stream = tls;
        }

        await using var _ = stream;
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.1\r\nHost: {sim.Url.Authority}\r\n\r\n"));
        var head = new List<byte>();
        while (!head.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            var one = new byte[1];
            Assert.Equal(1, await stream.ReadAsync(one));
            head.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).ToList();
        var buffer = new byte[1 << 16];
        var start = new MemoryStream();
        long length = 0;
        for (int n; (n = await stream.ReadAsync(buffer)) > 0;)
        {
            if (start.Length < 64)
            {
                start.Write(buffer, 0, Math.Min(n, 64));
            }

            length += n;
        }

        return new Answer(lines[0], lines.Skip(1).ToList(), length, start.ToArray());
    }

    private static async Task<(string Vdi, string Session, long Size)> DiskAsync(SimHost sim)
    {
        using var http = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => sim.Server.CertificateFingerprint is not { } expected
                || Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(certificate!.RawData))
                    .Equals(expected, StringComparison.OrdinalIgnoreCase),
        });
        using var rpc = new RpcClient(sim.Url, RpcClient.Transport.Json, http);
        var session = await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "tiny01"))!)[0]!;
        var vdi = (string)(await rpc.CallAsync("VBD.get_VDI", ((List<object?>)(await rpc.CallAsync("VM.get_VBDs", vm))!)[0]))!;
        return (vdi, session, Convert.ToInt64(await rpc.CallAsync("VDI.get_virtual_size", vdi)));
    }

    private static bool Has(Answer answer, string name)
        => answer.Headers.Any(h => h.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task By_default_the_body_has_no_length_no_coding_and_ends_with_a_clean_close(bool tls)
    {
        await using var sim = await SimHost.StartAsync(o => o with { Tls = tls });
        var (vdi, session, size) = await DiskAsync(sim);
        var answer = await GetAsync(sim, $"/export_raw_vdi/?vdi={vdi}&format=raw&session_id={session}");
        Assert.Equal("HTTP/1.1 200 OK", answer.StatusLine);
        Assert.Contains("Connection: close", answer.Headers);
        Assert.False(Has(answer, "Content-Length"));
        Assert.False(Has(answer, "Transfer-Encoding"));
        Assert.Equal(size, answer.BodyLength);

        // A clean close after N bytes: the same framing, the body just ends there.
        sim.Pool.Faults.CloseExportAfterBytes = 1_000_000;
        var cut = await GetAsync(sim, $"/export_raw_vdi/?vdi={vdi}&format=raw&session_id={session}");
        Assert.False(Has(cut, "Transfer-Encoding"));
        Assert.Equal(1_000_000, cut.BodyLength);
    }

    [Fact]
    public async Task Chunked_exports_is_a_switch()
    {
        await using var sim = await SimHost.StartAsync();
        var (vdi, session, _) = await DiskAsync(sim);
        sim.Pool.Faults.ChunkedExports = true;
        var answer = await GetAsync(sim, $"/export_raw_vdi/?vdi={vdi}&format=vhd&session_id={session}");
        Assert.Equal("HTTP/1.1 200 OK", answer.StatusLine);
        Assert.Contains("Transfer-Encoding: chunked", answer.Headers);
        Assert.False(Has(answer, "Content-Length"));
    }

    [Fact]
    public async Task A_failing_delta_export_puts_xapis_500_answer_in_the_200_body()
    {
        await using var sim = await SimHost.StartAsync();
        var (vdi, session, _) = await DiskAsync(sim);
        sim.Pool.Faults.FailDeltaExports = true;
        var answer = await GetAsync(sim, $"/export_raw_vdi/?vdi={vdi}&format=vhd&base={vdi}&session_id={session}");
        Assert.Equal("HTTP/1.1 200 OK", answer.StatusLine);
        Assert.StartsWith("HTTP/1.1 500 Internal Error\r\ncontent-length: ", Encoding.ASCII.GetString(answer.BodyStart));
    }
}
