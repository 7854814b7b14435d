using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>What the recovery command tests share: a job from alpha to beta, its runs, and reading the pools.</summary>
public abstract class RecoveryTest : NodeAndPools
{
    /// <summary>Registers alpha and beta and defines a job replicating one alpha VM to beta's local SR.</summary>
    protected async Task<(string JobId, string Vm, string Sr)> JobAsync(string vmName = "tiny01", params string[] settings)
    {
        await AddPoolsAsync();
        var (vm, sr) = (await Alpha.UuidAsync("VM", vmName), await Beta.UuidAsync("SR", "Local storage"));
        var created = await OkAsync("job", "create", "hourly", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}");
        var jobId = created.Split('\n')[0]["job ".Length..].Trim();
        if (settings.Length > 0)
        {
            await OkAsync(["job", "set", jobId, .. settings]);
        }

        return (jobId, vm, sr);
    }

    /// <summary>Runs the job by hand and waits; the run's only VM as /api/jobs/{job}/runs/{run} shows it.</summary>
    protected async Task<JsonNode> RunAsync(string jobId, params string[] options)
    {
        var run = await XcrAsync("", ["job", "run", jobId, "--wait", .. options]);
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        var runId = run.Stdout.Split('\n')[0]["run ".Length..].Trim();
        using var http = Http();
        return JsonNode.Parse(await http.GetStringAsync($"/api/jobs/{jobId}/runs/{runId}"))!["vms"]![0]!;
    }

    /// <summary>A run that is a delta whose restore point holds exactly its source snapshot.</summary>
    protected async Task AssertDeltaEqualToSourceAsync(JsonNode run)
    {
        Assert.True(run["status"]!.GetValue<string>() == "success", run.ToJsonString());
        Assert.False(run["full"]!.GetValue<bool>(), "the run after a recovery command must be a delta");
        var point = run["targets"]![0]!["restorePointUuid"]!.GetValue<string>();
        Assert.Equal(await Alpha.DiskChecksumsAsync(run["sourceSnapshot"]!.GetValue<string>()), await Beta.DiskChecksumsAsync(point));
    }

    /// <summary>A VM's record on a pool by uuid.</summary>
    protected static async Task<Dictionary<string, object?>> VmAsync(SimHost sim, string uuid)
        => (await sim.AllRecordsAsync("VM")).Single(r => (string)r["uuid"]! == uuid);

    /// <summary>Every VM, snapshot and managed VDI of a pool: what a refused or failed command must leave as it was. The SR's own
    /// hidden base copies (managed false, what a VHD clone or snapshot leaves for the SR's garbage collector to coalesce) are
    /// not objects of the pool's users.</summary>
    protected static async Task<string> InventoryAsync(SimHost sim)
    {
        var vms = (await sim.AllRecordsAsync("VM")).Select(r => $"{r["uuid"]}:{r["power_state"]}:{Map(r, "blocked_operations").Count}");
        var vdis = (await sim.AllRecordsAsync("VDI")).Where(r => r["managed"] is true).Select(r => (string)r["uuid"]!);
        return string.Join(",", vms.Concat(vdis).Order(StringComparer.Ordinal));
    }

    protected static Dictionary<string, object?> Map(Dictionary<string, object?> record, string field)
        => (Dictionary<string, object?>)record[field]!;

    protected static List<string> Strings(JsonNode? array) => [.. array!.AsArray().Select(n => n!.GetValue<string>())];
}
