using System.Net;
using System.Net.Http.Json;
using System.Text;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Http;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The export faults seen through the product's XAPI client (body and task) and, where the status line
/// or raw bytes matter, through a plain HTTP client.</summary>
public sealed class ExportFaultTests
{
    private static async Task SetFaultsAsync(SimHost sim, object faults)
    {
        using var http = new HttpClient { BaseAddress = sim.Url };
        (await http.PostAsJsonAsync("/sim/faults", faults)).EnsureSuccessStatusCode();
    }

    private static async Task<(XapiClient Client, VdiRecord Disk)> OpenAsync(SimHost sim)
    {
        var client = await SimPools.ConnectAsync(sim);
        return (client, (await SimPools.DisksAsync(client, await SimPools.VmAsync(client, "tiny01")))[0]);
    }

    /// <summary>Reads the whole body the client gets; null if reading it failed.</summary>
    private static async Task<long?> ReadAllAsync(VdiExport export)
    {
        try
        {
            var buffer = new byte[1 << 16];
            long total = 0;
            for (int n; (n = await export.Content.ReadAsync(buffer)) > 0;)
            {
                total += n;
            }

            return total;
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return null;
        }
    }

    [Fact]
    public async Task A_clean_close_after_n_bytes_ends_the_body_there_and_the_task_still_succeeds()
    {
        await using var sim = await SimHost.StartAsync();
        var (client, disk) = await OpenAsync(sim);
        await using var _ = client;
        await SetFaultsAsync(sim, new { closeExportAfterBytes = 3_000_000 });
        await using var export = await client.ExportVdiAsync(disk.Ref, VdiFormat.Raw);
        Assert.Equal(3_000_000, await ReadAllAsync(export));
        await export.CompleteAsync();
    }

    [Fact]
    public async Task A_failed_export_task_comes_after_a_whole_body()
    {
        await using var sim = await SimHost.StartAsync();
        var (client, disk) = await OpenAsync(sim);
        await using var _ = client;
        sim.Pool.Faults.FailExportTask = true;
        await using var export = await client.ExportVdiAsync(disk.Ref, VdiFormat.Raw);
        Assert.Equal(disk.VirtualSize, await ReadAllAsync(export));
        var e = await Assert.ThrowsAsync<XapiException>(() => export.CompleteAsync());
        Assert.Equal(["VDI_IO_ERROR", "Device I/O errors"], e.Description);
    }

    [Fact]
    public async Task Status_500_is_xapis_internal_error_page_and_fails_the_task()
    {
        await using var sim = await SimHost.StartAsync();
        var (client, disk) = await OpenAsync(sim);
        await using var _ = client;
        await SetFaultsAsync(sim, new { exportStatus500 = true });
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.ExportVdiAsync(disk.Ref, VdiFormat.Vhd));
        Assert.Equal(HttpStatusCode.InternalServerError, e.StatusCode);

        using var rpc = sim.Json();
        await rpc.LoginAsync();
        var task = await client.CreateTaskAsync("export");
        using var http = new HttpClient { BaseAddress = sim.Url };
        using var response = await http.GetAsync($"/export_raw_vdi/?vdi={disk.Ref}&format=vhd&session_id={rpc.Session}&task_id={task}");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("Internal Error", response.ReasonPhrase);
        Assert.Contains("HTTP 500 internal server error", await response.Content.ReadAsStringAsync());
        var record = await client.GetRecordAsync<TaskRecord>(task);
        Assert.Equal(("failure", "INTERNAL_ERROR"), (record.Status, record.ErrorInfo[0]));
    }

    [Fact]
    public async Task A_cancel_after_n_bytes_cancels_the_task_and_closes_the_connection()
    {
        await using var sim = await SimHost.StartAsync();
        var (client, disk) = await OpenAsync(sim);
        await using var _ = client;
        await SetFaultsAsync(sim, new { cancelExportAfterBytes = 2_000_000 });
        await using var export = await client.ExportVdiAsync(disk.Ref, VdiFormat.Raw);
        var read = await ReadAllAsync(export);
        Assert.True(read is null or <= 2_000_000, $"{read} bytes");
        await Assert.ThrowsAsync<OperationCanceledException>(() => export.CompleteAsync());
        Assert.Equal("cancelled", (await client.GetRecordAsync<TaskRecord>(export.Task)).Status);
    }

    [Fact]
    public async Task A_delta_export_fails_as_xapi_does_while_a_full_one_works()
    {
        await using var sim = await SimHost.StartAsync();
        var (client, disk) = await OpenAsync(sim);
        await using var _ = client;
        var vm = await SimPools.VmAsync(client, "tiny01");
        var first = (await SimPools.DisksAsync(client, await SimPools.SnapshotAsync(client, vm, "a")))[0];
        var second = (await SimPools.DisksAsync(client, await SimPools.SnapshotAsync(client, vm, "b")))[0];
        await SetFaultsAsync(sim, new { failDeltaExports = true });

        // XAPI has sent its 200 when vhd-tool fails: the body is an HTTP 500 page (xen-api #4603), which the client
        // recognises from its first bytes (ExportWireTests reads the page itself off the wire).
        var e = await Assert.ThrowsAsync<XapiException>(() => client.ExportVdiAsync(second.Ref, VdiFormat.Vhd, first.Ref));
        Assert.Equal("VDI_IO_ERROR", e.Code);
        Assert.Contains("HTTP/1.1 500 Internal Error", e.Message);

        await using var full = await client.ExportVdiAsync(second.Ref, VdiFormat.Raw);
        Assert.Equal(disk.VirtualSize, await ReadAllAsync(full));
        await full.CompleteAsync();
    }
}
