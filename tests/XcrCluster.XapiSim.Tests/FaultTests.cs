using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Tests;

/// <summary>Each fault switched on through /sim/faults, and /sim/stats proving what crossed the wire. Rate
/// faults are checked with lower bounds only (a slow machine cannot make them fail).</summary>
public sealed class FaultTests
{
    private sealed record Disk(string Ref, string Uuid, long Size);

    /// <summary>A pool with a logged-in caller, an HTTP client on it and tiny01's disk; disposed as one.</summary>
    private sealed record Opened(SimHost Sim, RpcClient Rpc, HttpClient Http, Disk Disk) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            Rpc.Dispose();
            await Sim.DisposeAsync();
        }
    }

    private static async Task<Opened> OpenAsync(Func<SimOptions, SimOptions>? configure = null)
    {
        var sim = await SimHost.StartAsync(configure);
        var rpc = sim.Json();
        await rpc.LoginAsync();
        var vm = (string)((List<object?>)(await rpc.CallAsync("VM.get_by_name_label", "tiny01"))!)[0]!;
        var vbd = ((List<object?>)(await rpc.CallAsync("VM.get_VBDs", vm))!).Cast<string>().First();
        var vdi = (string)(await rpc.CallAsync("VBD.get_VDI", vbd))!;
        var record = await rpc.RecordAsync("VDI", vdi);
        return new Opened(sim, rpc, new HttpClient { BaseAddress = sim.Url }, new Disk(vdi, (string)record["uuid"]!, Convert.ToInt64(record["virtual_size"])));
    }

    private static async Task SetFaultsAsync(HttpClient http, object faults)
        => (await http.PostAsJsonAsync("/sim/faults", faults)).EnsureSuccessStatusCode();

    private static string Export(RpcClient rpc, Disk disk, string format = "raw") => $"/export_raw_vdi/?vdi={disk.Ref}&format={format}&session_id={rpc.Session}";

    [Fact]
    public async Task Faults_are_read_set_refused_by_name_and_cleared_over_http()
    {
        await using var pool = await OpenAsync();
        var (sim, rpc, http) = (pool.Sim, pool.Rpc, pool.Http);
        await SetFaultsAsync(http, new { srFull = true, callLatencyMs = 5 });
        var faults = await http.GetFromJsonAsync<JsonElement>("/sim/faults");
        Assert.True(faults.GetProperty("srFull").GetBoolean());
        Assert.Equal(5, faults.GetProperty("callLatencyMs").GetInt64());
        var bad = await http.PostAsJsonAsync("/sim/faults", new { diskOnFire = true });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("diskOnFire", await bad.Content.ReadAsStringAsync());
        (await http.DeleteAsync("/sim/faults")).EnsureSuccessStatusCode();
        Assert.False(sim.Pool.Faults.SrFull);
    }

    [Fact]
    public async Task Without_a_guest_agent_a_started_vm_runs_and_reports_no_guest_metrics()
    {
        await using var pool = await OpenAsync();
        await SetFaultsAsync(pool.Http, new { noGuestAgent = true });
        Assert.True((await pool.Http.GetFromJsonAsync<JsonElement>("/sim/faults")).GetProperty("noGuestAgent").GetBoolean());
        var vm = (string)((List<object?>)(await pool.Rpc.CallAsync("VM.get_by_name_label", "db01"))!)[0]!;
        await pool.Rpc.CallAsync("VM.start", vm, false, false);
        Assert.Equal("Running", await pool.Rpc.CallAsync("VM.get_power_state", vm));
        Assert.Equal(XapiValue.NullRef, await pool.Rpc.CallAsync("VM.get_guest_metrics", vm));
        (await pool.Http.DeleteAsync("/sim/faults")).EnsureSuccessStatusCode();
        Assert.False(pool.Sim.Pool.Faults.NoGuestAgent);
    }

    [Fact]
    public async Task A_slow_export_takes_at_least_size_over_rate_and_stats_count_every_byte()
    {
        await using var pool = await OpenAsync();
        var (sim, rpc, http, disk) = (pool.Sim, pool.Rpc, pool.Http, pool.Disk);
        const long rate = 16L << 20;
        await SetFaultsAsync(http, new { exportBytesPerSecond = rate });
        var clock = Stopwatch.StartNew();
        var body = await http.GetByteArrayAsync(Export(rpc, disk));
        Assert.Equal(disk.Size, body.Length);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9 * disk.Size / rate), $"{clock.Elapsed} for {disk.Size} bytes at {rate} B/s");
        var stats = await http.GetFromJsonAsync<JsonElement>("/sim/stats");
        Assert.Equal(disk.Size, stats.GetProperty("vdis").GetProperty(disk.Uuid).GetProperty("bytesExported").GetInt64());
        Assert.Equal(1, stats.GetProperty("endpoints").GetProperty("/export_raw_vdi").GetProperty("requests").GetInt64());
        Assert.True(stats.GetProperty("endpoints").GetProperty("/jsonrpc").GetProperty("requests").GetInt64() >= 5);
    }

    [Fact]
    public async Task A_slow_import_takes_at_least_size_over_rate()
    {
        await using var pool = await OpenAsync();
        var (sim, rpc, http, disk) = (pool.Sim, pool.Rpc, pool.Http, pool.Disk);
        const long rate = 8L << 20;
        await SetFaultsAsync(http, new { importBytesPerSecond = rate });
        var data = new byte[disk.Size];
        new Random(7).NextBytes(data);
        var clock = Stopwatch.StartNew();
        using var response = await http.PutAsync($"/import_raw_vdi?vdi={disk.Uuid}&format=raw&session_id={rpc.Session}", new ByteArrayContent(data));
        await response.Content.ReadAsByteArrayAsync();
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9 * data.Length / rate), $"{clock.Elapsed}");
        var imported = (await http.GetFromJsonAsync<JsonElement>("/sim/stats")).GetProperty("vdis").GetProperty(disk.Uuid).GetProperty("bytesImported").GetInt64();
        Assert.Equal(data.Length, imported);
        Assert.Equal(Storage.ContentHasher.Of(data), Storage.GuestWorkload.Checksum(sim.Pool, disk.Uuid));
    }

    [Fact]
    public async Task A_reset_export_cuts_the_connection_after_the_given_bytes()
    {
        await using var pool = await OpenAsync();
        var (sim, rpc, http, disk) = (pool.Sim, pool.Rpc, pool.Http, pool.Disk);
        await SetFaultsAsync(http, new { resetExportAfterBytes = 3 << 20 });
        await Assert.ThrowsAnyAsync<Exception>(() => http.GetByteArrayAsync(Export(rpc, disk)));
        var exported = (await http.GetFromJsonAsync<JsonElement>("/sim/stats")).GetProperty("vdis").GetProperty(disk.Uuid).GetProperty("bytesExported").GetInt64();
        Assert.Equal(3 << 20, exported);
    }

    [Fact]
    public async Task A_reset_import_fails_its_task_and_leaves_the_disk_as_it_was()
    {
        await using var pool = await OpenAsync();
        var (sim, rpc, http, disk) = (pool.Sim, pool.Rpc, pool.Http, pool.Disk);
        var before = Storage.GuestWorkload.Checksum(sim.Pool, disk.Uuid);
        await SetFaultsAsync(http, new { resetImportAfterBytes = 5 << 20 });
        var task = (string)(await rpc.CallAsync("task.create", "import", ""))!;
        var data = new byte[disk.Size];
        new Random(9).NextBytes(data);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var response = await http.PutAsync($"/import_raw_vdi/?vdi={disk.Ref}&format=raw&session_id={rpc.Session}&task_id={task}", new ByteArrayContent(data));
            await response.Content.ReadAsByteArrayAsync();
            throw new IOException("the import was not cut");
        });
        await AwaitStatusAsync(rpc, task, "failure");
        Assert.Equal("VDI_IO_ERROR", ((List<object?>)(await rpc.CallAsync("task.get_error_info", task))!)[0]);
        Assert.Equal(before, Storage.GuestWorkload.Checksum(sim.Pool, disk.Uuid));
    }

    [Fact]
    public async Task Session_invalid_on_the_next_call_then_a_new_login_works()
    {
        await using var pool = await OpenAsync();
        var (sim, rpc, http) = (pool.Sim, pool.Rpc, pool.Http);
        await SetFaultsAsync(http, new { sessionInvalidNext = true });
        Assert.Equal("SESSION_INVALID", (await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VM.get_all"))).Code);
        await rpc.LoginAsync();
        Assert.NotEmpty((List<object?>)(await rpc.CallAsync("VM.get_all"))!);
    }

    [Fact]
    public async Task Sr_full_fails_creation_and_leaves_no_vdi()
    {
        await using var pool = await OpenAsync();
        var (sim, rpc, http) = (pool.Sim, pool.Rpc, pool.Http);
        var sr = (await rpc.AllRecordsAsync("SR")).First().Key;
        var before = (await rpc.AllRecordsAsync("VDI")).Count;
        var files = Directory.GetFiles(sim.DataDir, "*.vhd", SearchOption.AllDirectories).Length;
        await SetFaultsAsync(http, new { srFull = true });
        var e = await Assert.ThrowsAsync<XapiException>(() => rpc.CallAsync("VDI.create", new Dictionary<string, object?> { ["SR"] = sr, ["virtual_size"] = 1L << 20, ["name_label"] = "x", ["type"] = "user" }));
        Assert.Equal("SR_BACKEND_FAILURE_44", e.Code);
        Assert.Equal(before, (await rpc.AllRecordsAsync("VDI")).Count);
        Assert.Equal(files, Directory.GetFiles(sim.DataDir, "*.vhd", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task Call_latency_delays_every_call_and_a_disabled_json_endpoint_answers_like_an_old_host()
    {
        await using var pool = await OpenAsync();
        var (sim, rpc, http) = (pool.Sim, pool.Rpc, pool.Http);
        await SetFaultsAsync(http, new { callLatencyMs = 300 });
        var clock = Stopwatch.StartNew();
        await rpc.CallAsync("VM.get_all");
        Assert.True(clock.ElapsedMilliseconds >= 290, $"{clock.ElapsedMilliseconds} ms");
        await SetFaultsAsync(http, new { callLatencyMs = 0, disableJsonRpc = true });
        using var response = await http.PostAsync("/jsonrpc", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType!.ToString());
        using var xml = sim.Xml();
        await xml.LoginAsync();
    }

    [Fact]
    public async Task A_member_sends_logins_to_the_master_and_redirects_exports_to_the_host_holding_the_disk()
    {
        await using var pool = await OpenAsync(o => o with { Listen = ["127.0.0.1:0", "127.0.0.2:0"] });
        var (sim, rpc, http, disk) = (pool.Sim, pool.Rpc, pool.Http, pool.Disk);
        Assert.Equal(sim.Url.Port, sim.Server.HostUrls[1].Port);
        using var member = new RpcClient(sim.Server.HostUrls[1], RpcClient.Transport.Xml);
        var slave = await Assert.ThrowsAsync<XapiException>(() => member.LoginAsync());
        Assert.Equal(["HOST_IS_SLAVE", "127.0.0.1"], slave.Description);

        await SetFaultsAsync(http, new { redirectExports = true });
        using var noFollow = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = sim.Url };
        using var redirect = await noFollow.GetAsync(Export(rpc, disk));
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        var location = redirect.Headers.Location!;
        Assert.Equal("127.0.0.2", location.Host);
        Assert.Equal(sim.Url.Port, location.Port);
        Assert.Contains($"vdi={disk.Ref}", location.Query);
        Assert.Equal(disk.Size, (await noFollow.GetByteArrayAsync(location)).Length);
    }

    [Fact]
    public async Task Tls_serves_the_certificate_whose_fingerprint_the_pool_reports()
    {
        await using var sim = await SimHost.StartAsync(o => o with { Tls = true });
        string? seen = null;
        using var http = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                seen = Convert.ToHexString(SHA256.HashData(certificate!.RawData)).ToLowerInvariant();
                return seen == sim.Server.CertificateFingerprint;
            },
        });
        Assert.Equal("https", sim.Url.Scheme);
        using var response = await http.PostAsync(new Uri(sim.Url, "jsonrpc"), new StringContent("{\"jsonrpc\":\"2.0\",\"method\":\"session.login_with_password\",\"params\":[\"root\",\"password\"],\"id\":1}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(sim.Server.CertificateFingerprint, seen);
        using var unverified = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => unverified.GetAsync(sim.Url));
    }

    private static async Task AwaitStatusAsync(RpcClient rpc, string task, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((string)(await rpc.CallAsync("task.get_status", task))! != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"task {task} never reached {status}");
            await rpc.CallAsync("event.from", new List<object?> { "task" }, "", 1.0);
        }
    }
}
