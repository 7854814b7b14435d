using System.Text.Json;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

// Reads its inputs from the environment so no password shows on a command line (/proc/*/cmdline):
// XCR_PROBE_URL (pool URL without password), XCR_PROBE_USER, XCR_PROBE_PASSWORD, XCR_PROBE_VDI (uuid),
// XCR_PROBE_FORMAT (vhd|raw). Prints one JSON line: bytes read and the process's peak RSS in KiB.
string Env(string name) => Environment.GetEnvironmentVariable(name) ?? throw new ArgumentException($"{name} is not set");

var endpoint = XapiEndpoint.Parse(Env("XCR_PROBE_URL"), XapiTls.AllowUnauthorized, new XapiCredentials(Env("XCR_PROBE_USER"), new Secret(Env("XCR_PROBE_PASSWORD"))));
await using var client = await XapiClient.ConnectAsync(endpoint);
var vdi = await client.GetRefByUuidAsync<VdiRecord>(Env("XCR_PROBE_VDI"));
var format = Env("XCR_PROBE_FORMAT") == "raw" ? VdiFormat.Raw : VdiFormat.Vhd;
long total = 0;
await using (var export = await client.ExportVdiAsync(vdi, format))
{
    var buffer = new byte[1 << 20];
    int n;
    while ((n = await export.Content.ReadAsync(buffer)) > 0)
    {
        total += n;
    }

    await export.CompleteAsync();
}

var hwm = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
var kib = long.Parse(hwm["VmHWM:".Length..].Trim().Split(' ')[0]);
Console.WriteLine(JsonSerializer.Serialize(new { bytes = total, vmHwmKib = kib }));
