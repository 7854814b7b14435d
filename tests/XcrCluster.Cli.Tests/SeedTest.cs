using System.Text.Json.Nodes;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Cli.Tests;

/// <summary>What the seed tests share: the seed document's manual path as an operator runs it against the pools (a snapshot,
/// `xe vm-export` of it to an XVA file, `xe vm-import` of that file on a target SR: XAPI's HTTP GET /export and PUT /import
/// with a session), and reading what a seed leaves.</summary>
public abstract class SeedTest : RecoveryTest
{
    /// <summary>The job's first schedule.</summary>
    protected async Task<string> ScheduleAsync(string jobId)
    {
        using var http = Http();
        return JsonNode.Parse(await http.GetStringAsync($"/api/jobs/{jobId}"))!["scheduleId"]!.GetValue<string>();
    }

    /// <summary>A pool's URL with the credentials in it, percent-encoded, as xo-cr-seed takes it.</summary>
    protected static string LoginUrl(SimHost sim)
        => $"http://{Uri.EscapeDataString(sim.Pool.Options.User)}:{Uri.EscapeDataString(sim.Pool.Options.Password)}@{sim.Url.Authority}";

    /// <summary>A logged-in session on a pool.</summary>
    protected static async Task<RpcClient> LoginAsync(SimHost sim)
    {
        var rpc = sim.Json();
        await rpc.LoginAsync(sim.Pool.Options.User, sim.Pool.Options.Password);
        return rpc;
    }

    /// <summary>VM.snapshot of a VM by uuid; the snapshot's uuid.</summary>
    protected static async Task<string> SnapshotAsync(SimHost sim, string vmUuid, string name)
    {
        using var rpc = await LoginAsync(sim);
        var snapshot = (string)(await rpc.CallAsync("VM.snapshot", (string)(await rpc.CallAsync("VM.get_by_uuid", vmUuid))!, name))!;
        return (string)(await rpc.CallAsync("VM.get_uuid", snapshot))!;
    }

    /// <summary>The manual seed's transfer: the snapshot exported to an XVA file, the file imported on the target SR (by name);
    /// the imported VM's uuid.</summary>
    protected async Task<string> ExportImportAsync(string snapshotUuid, string targetSr = "Local storage")
    {
        var file = Path.Combine(DataDir, $"seed-{snapshotUuid}.xva");
        using (var alpha = await LoginAsync(Alpha))
        {
            await ExportAsync(Alpha, alpha.Session!, snapshotUuid, file);
        }

        using var beta = await LoginAsync(Beta);
        var sr = (string)(await beta.CallAsync("SR.get_by_uuid", await Beta.UuidAsync("SR", targetSr)))!;
        var vm = await ImportAsync(Beta, beta, sr, file);
        File.Delete(file);
        return (string)(await beta.CallAsync("VM.get_uuid", vm))!;
    }

    /// <summary>GET /export?uuid= with the session: the XVA, written to <paramref name="path"/>.</summary>
    private static async Task ExportAsync(SimHost sim, string session, string uuid, string path)
    {
        using var http = new HttpClient { BaseAddress = sim.Url, Timeout = TimeSpan.FromMinutes(5) };
        using var response = await http.GetAsync($"/export?uuid={uuid}&session_id={session}", HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.IsSuccessStatusCode, $"GET /export: {(int)response.StatusCode}");
        await using var file = File.Create(path);
        await response.Content.CopyToAsync(file);
    }

    /// <summary>PUT /import?sr_id= of the file with its length (XAPI takes no chunked body) and a task of ours, whose result
    /// is the new VM's ref.</summary>
    private static async Task<string> ImportAsync(SimHost sim, RpcClient rpc, string sr, string path)
    {
        var task = (string)(await rpc.CallAsync("task.create", "import", ""))!;
        using (var http = new HttpClient { BaseAddress = sim.Url, Timeout = TimeSpan.FromMinutes(5) })
        {
            await using var file = File.OpenRead(path);
            using var content = new StreamContent(file);
            content.Headers.ContentLength = file.Length;
            using var response = await http.PutAsync($"/import?sr_id={sr}&session_id={rpc.Session}&task_id={task}", content);
            Assert.True(response.IsSuccessStatusCode, $"PUT /import: {(int)response.StatusCode}");
        }

        await Poll.UntilAsync(async () => (string)(await rpc.RecordAsync("task", task))["status"]! != "pending", "the import task");
        var done = await rpc.RecordAsync("task", task);
        Assert.True((string)done["status"]! == "success", $"import: {string.Join(" ", (List<object?>)done["error_info"]!)}");
        await rpc.CallAsync("task.destroy", task);
        return (string)((List<object?>)XmlRpc.DecodeValue((string)done["result"]!)!)[0]!;
    }

    /// <summary>An object's other_config by uuid (VM or VDI).</summary>
    protected static async Task<Dictionary<string, object?>> OtherConfigAsync(SimHost sim, string cls, string uuid)
        => Map((await sim.AllRecordsAsync(cls)).Single(r => (string)r["uuid"]! == uuid), "other_config");

    /// <summary>A VM's disk VDI uuids by userdevice.</summary>
    protected static async Task<Dictionary<string, string>> DisksAsync(SimHost sim, string vmUuid)
    {
        using var rpc = await LoginAsync(sim);
        var result = new Dictionary<string, string>();
        foreach (var vbdRef in (List<object?>)(await VmAsync(sim, vmUuid))["VBDs"]!)
        {
            var vbd = await rpc.RecordAsync("VBD", (string)vbdRef!);
            if ((string)vbd["type"]! == "Disk" && vbd["empty"] is false)
            {
                result[(string)vbd["userdevice"]!] = (string)(await rpc.CallAsync("VDI.get_uuid", (string)vbd["VDI"]!))!;
            }
        }

        return result;
    }

    /// <summary>Names, power states, blocked operations and other_config of every VM and VDI: a refusal leaves it as it was.</summary>
    protected static async Task<string> StateAsync(SimHost sim)
    {
        static string Entries(Dictionary<string, object?> map) => string.Join(";", map.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={p.Value}"));
        var vms = (await sim.AllRecordsAsync("VM")).Select(r => $"{r["uuid"]}:{r["name_label"]}:{Entries(Map(r, "other_config"))}"
            + $":{Entries(Map(r, "blocked_operations"))}");
        var vdis = (await sim.AllRecordsAsync("VDI")).Select(r => $"{r["uuid"]}:{Entries(Map(r, "other_config"))}");
        return await InventoryAsync(sim) + "\n" + string.Join("\n", vms.Concat(vdis).Order(StringComparer.Ordinal));
    }
}
