using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>
/// The demo's view of one simulated pool (xcr-xapi-sim): its /sim/ endpoints (wire counters, guest writes, the
/// coalesce collector, disk checksums) and the three XAPI reads, over JSON-RPC as plain JSON, that name a VM's disks.
/// xcr stays a client of HTTP APIs: it carries no XAPI client of its own.
/// </summary>
public sealed class SimPool(HttpClient http, Uri url)
{
    private long callId;

    public Uri Url => url;

    /// <summary>Bytes the pool has served on /export_raw_vdi and taken on /import_raw_vdi, from its own counters.</summary>
    public async Task<(long Exported, long Imported)> BytesAsync()
    {
        var stats = await http.GetFromJsonAsync<JsonNode>(new Uri(url, "/sim/stats"))
            ?? throw new CliException($"the simulator at {url} answered no stats");
        long Bytes(string path, string field) => stats["endpoints"]?[path]?[field]?.GetValue<long>() ?? 0;
        return (Bytes("/export_raw_vdi", "bytesExported"), Bytes("/import_raw_vdi", "bytesImported"));
    }

    /// <summary>The guest of a VM writes blocks of its first disk; then the collector coalesces what it can.</summary>
    public async Task GuestWriteAsync(string vm, int blocks, int seed)
    {
        (await http.PostAsJsonAsync(new Uri(url, "/sim/guest-write"), new { vm, blocks, seed })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync(new Uri(url, "/sim/collector"), new { run = true })).EnsureSuccessStatusCode();
    }

    /// <summary>The SHA-256 of each disk of a VM or snapshot, in userdevice order.</summary>
    public async Task<string> ChecksumsAsync(string vmUuid)
    {
        // The simulator's default credentials, as the demo registers the pools with.
        var session = await CallAsync("session.login_with_password", "root", "password");
        var disks = new List<(int Userdevice, string Vdi)>();
        foreach (var vbd in (await CallNodeAsync("VM.get_VBDs", session, await CallAsync("VM.get_by_uuid", session, vmUuid))).AsArray())
        {
            var record = await CallNodeAsync("VBD.get_record", session, vbd!.GetValue<string>());
            if (record["type"]?.GetValue<string>() == "Disk" && record["empty"]?.GetValue<bool>() != true)
            {
                disks.Add((int.TryParse(record["userdevice"]?.GetValue<string>(), out var u) ? u : int.MaxValue,
                    await CallAsync("VDI.get_uuid", session, record["VDI"]!.GetValue<string>())));
            }
        }

        var sums = new List<string>();
        foreach (var (_, vdi) in disks.OrderBy(d => d.Userdevice))
        {
            var sum = await http.GetFromJsonAsync<JsonNode>(new Uri(url, $"/sim/checksum?vdi={Uri.EscapeDataString(vdi)}"));
            sums.Add(sum?["checksum"]?.GetValue<string>()
                ?? throw new CliException($"the simulator at {url} has no checksum of VDI {vdi}"));
        }

        await CallNodeAsync("session.logout", session);
        return string.Join(",", sums);
    }

    private async Task<string> CallAsync(string method, params string[] args) => (await CallNodeAsync(method, args)).GetValue<string>();

    /// <summary>One XAPI call as JSON-RPC v2; an XAPI error is a one-line <see cref="CliException"/>.</summary>
    private async Task<JsonNode> CallNodeAsync(string method, params string[] args)
    {
        using var response = await http.PostAsJsonAsync(new Uri(url, "/jsonrpc"),
            new { jsonrpc = "2.0", method, @params = args, id = Interlocked.Increment(ref callId) });
        response.EnsureSuccessStatusCode();
        var reply = await response.Content.ReadFromJsonAsync<JsonNode>();
        return reply?["error"] is { } error
            ? throw new CliException($"the simulator at {url}: {method}: {error["message"]} {error["data"]?.ToJsonString()}")
            : reply?["result"] ?? throw new CliException($"the simulator at {url}: {method}: no result");
    }
}
