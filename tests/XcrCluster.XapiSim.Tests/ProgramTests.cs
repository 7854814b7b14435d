using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace XcrCluster.XapiSim.Tests;

/// <summary>`xcr-xapi-sim` as a program: its one stdout line, persistence across restarts (also after kill -9 in
/// the middle of an import), the guest-write and checksum subcommands, --tls, and bad options.</summary>
[Collection("processes")]
public sealed class ProgramTests : IDisposable
{
    private const string FixtureJson = """
        {
          "hosts": [{ "name": "h1" }],
          "srs": [{ "name": "Local storage", "size": 10737418240 }],
          "networks": [{ "name": "net0" }],
          "vms": [{ "name": "vm1", "power": "Running", "disks": [{ "size": 16777216, "fill": { "kind": "random", "seed": 3, "fraction": 0.5 } }] }]
        }
        """;

    private readonly string dir = Directory.CreateTempSubdirectory("xcr-program-").FullName;

    public ProgramTests() => File.WriteAllText(FixturePath, FixtureJson);

    private string FixturePath => Path.Combine(dir, "fixture.json");

    private string DataDir => Path.Combine(dir, "data");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private Task<(ProgramProcess Process, Uri Url)> StartAsync(params string[] extra)
        => ProgramProcess.StartAsync(["--listen", "127.0.0.1:0", "--data", DataDir, "--fixture", FixturePath, .. extra]);

    private static async Task<(string Vm, string Vdi)> DiskAsync(Uri url)
    {
        using var rpc = new RpcClient(url, RpcClient.Transport.Json);
        await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "vm1"))!)[0]!;
        var vdi = (string)(await rpc.CallAsync("VBD.get_VDI", ((List<object?>)(await rpc.CallAsync("VM.get_VBDs", vm))!)[0]))!;
        return ((string)(await rpc.CallAsync("VM.get_uuid", vm))!, (string)(await rpc.CallAsync("VDI.get_uuid", vdi))!);
    }

    private static async Task<string> ChecksumAsync(Uri url, string vdi)
    {
        var (code, stdout, stderr) = await ProgramProcess.RunAsync("checksum", "--url", url.ToString(), "--vdi", vdi);
        Assert.True(code == 0, stderr);
        return Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Prints_one_line_and_a_restart_on_the_same_dir_keeps_the_pool_and_the_disks()
    {
        string vm, vdi, checksum;
        var (first, url) = await StartAsync();
        using (first)
        {
            Assert.Matches("^http://127\\.0\\.0\\.1:[0-9]+/$", url.ToString());
            (vm, vdi) = await DiskAsync(url);
            checksum = await ChecksumAsync(url, vdi);
            var (code, stdout, _) = await ProgramProcess.RunAsync("guest-write", "--url", url.ToString(), "--vm", vm, "--blocks", "2", "--seed", "9");
            Assert.Equal(0, code);
            Assert.Equal(2, JsonDocument.Parse(stdout).RootElement.GetProperty("blocks").GetArrayLength());
            Assert.NotEqual(checksum, checksum = await ChecksumAsync(url, vdi));
            Assert.Equal(0, await first.SignalAsync("TERM"));
            Assert.Equal([$"listening http://127.0.0.1:{url.Port}"], first.Stdout);
        }

        var (second, again) = await StartAsync();
        using (second)
        {
            Assert.Equal((vm, vdi), await DiskAsync(again));
            Assert.Equal(checksum, await ChecksumAsync(again, vdi));
        }
    }

    [Fact]
    public async Task Kill_9_during_an_import_leaves_the_disk_as_it_was_after_a_restart()
    {
        var (first, url) = await StartAsync();
        string vdi, before;
        using (first)
        {
            (_, vdi) = await DiskAsync(url);
            before = await ChecksumAsync(url, vdi);
            using var http = new HttpClient { BaseAddress = url };
            (await http.PostAsJsonAsync("/sim/faults", new { importBytesPerSecond = 2 << 20 })).EnsureSuccessStatusCode();
            using var rpc = new RpcClient(url, RpcClient.Transport.Json);
            var session = await rpc.LoginAsync();
            var data = new byte[16 << 20];
            new Random(4).NextBytes(data);
            var import = http.PutAsync($"/import_raw_vdi/?vdi={vdi}&format=raw&session_id={session}", new ByteArrayContent(data));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (await ImportedAsync(http, vdi) < 1 << 20)
            {
                Assert.True(DateTime.UtcNow < deadline, "the import never started");
                await Task.Delay(50);
            }

            Assert.Contains(Directory.GetFiles(DataDir, "*", SearchOption.AllDirectories), f => f.EndsWith(".importing", StringComparison.Ordinal));
            await first.SignalAsync("KILL");
            await Assert.ThrowsAnyAsync<Exception>(() => import);
        }

        var (second, again) = await StartAsync();
        using (second)
        {
            Assert.Equal(before, await ChecksumAsync(again, vdi));
            Assert.DoesNotContain(Directory.GetFiles(DataDir, "*", SearchOption.AllDirectories), f => f.EndsWith(".importing", StringComparison.Ordinal));
        }
    }

    private static async Task<long> ImportedAsync(HttpClient http, string vdi)
    {
        var stats = await http.GetFromJsonAsync<JsonElement>("/sim/stats");
        return stats.GetProperty("vdis").TryGetProperty(vdi, out var v) ? v.GetProperty("bytesImported").GetInt64() : 0;
    }

    [Fact]
    public async Task Tls_prints_the_fingerprint_of_the_certificate_it_serves()
    {
        var (sim, url) = await StartAsync("--tls");
        using (sim)
        {
            Assert.Equal("https", url.Scheme);
            string? served = null;
            using var http = new HttpClient(new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
                {
                    served = Convert.ToHexString(SHA256.HashData(certificate!.RawData)).ToLowerInvariant();
                    return true;
                },
            });
            await http.PostAsync(new Uri(url, "jsonrpc"), new StringContent("{}"));
            Assert.Contains($"tls certificate sha256 fingerprint: {served}", sim.Stderr);
        }
    }

    [Theory]
    [InlineData("--listen", "127.0.0.1:0")]
    [InlineData("--data")]
    [InlineData("--listen", "nonsense", "--data", "/tmp/x")]
    [InlineData("--frobnicate", "--data", "/tmp/x")]
    public async Task Bad_options_exit_2_with_the_usage(params string[] args)
    {
        var (code, stdout, stderr) = await ProgramProcess.RunAsync(args);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Contains("usage: xcr-xapi-sim", stderr);
    }
}
