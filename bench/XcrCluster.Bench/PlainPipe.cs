using System.Diagnostics;
using System.Net.Http.Headers;
using XcrCluster.Vhd;

namespace XcrCluster.Bench;

/// <summary>The baselines of a replication, without Akka or our XAPI client: a plain HttpClient GET of the source disk's
/// VHD export, read to nowhere or piped as it arrives into a plain PUT to the target's import.</summary>
public static class PlainPipe
{
    /// <summary>The export read to nowhere; the time.</summary>
    public static async Task<TimeSpan> ExportOnlyAsync(BenchPool source)
    {
        using var http = Client(source);
        var vdi = await source.DiskAsync("bench");
        var session = await XapiBench.LoginAsync(http, BenchPool.User, BenchPool.Password);
        var clock = Stopwatch.StartNew();
        using var response = await ExportAsync(http, session, vdi.Ref);
        await (await response.Content.ReadAsStreamAsync()).CopyToAsync(new CountingSink());
        return clock.Elapsed;
    }

    /// <summary>The export piped into the import of the target's "sink" disk (the export has no Content-Length, the import
    /// needs one: a disk with every block allocated gives the VHD stream's length); the time.</summary>
    public static async Task<TimeSpan> PipeAsync(BenchPool source, BenchPool target)
    {
        using var get = Client(source);
        using var put = Client(target);
        var (vdi, sink) = (await source.DiskAsync("bench"), await target.DiskAsync("sink"));
        var sourceSession = await XapiBench.LoginAsync(get, BenchPool.User, BenchPool.Password);
        var targetSession = await XapiBench.LoginAsync(put, BenchPool.User, BenchPool.Password);
        var clock = Stopwatch.StartNew();
        using var response = await ExportAsync(get, sourceSession, vdi.Ref);
        var content = new StreamContent(await response.Content.ReadAsStreamAsync(), 1 << 20);
        content.Headers.ContentLength = VhdStreamWriter.ComputeLength(vdi.VirtualSize,
            (int)((vdi.VirtualSize + VhdConstants.DefaultBlockSize - 1) / VhdConstants.DefaultBlockSize));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var imported = await put.PutAsync($"/import_raw_vdi/?vdi={sink.Ref}&format=vhd&session_id={targetSession}", content);
        imported.EnsureSuccessStatusCode();
        await imported.Content.ReadAsByteArrayAsync();
        return clock.Elapsed;
    }

    private static HttpClient Client(BenchPool pool) => new() { BaseAddress = pool.Url, Timeout = Timeout.InfiniteTimeSpan };

    private static async Task<HttpResponseMessage> ExportAsync(HttpClient http, string session, string vdiRef)
    {
        var response = await http.GetAsync($"/export_raw_vdi/?vdi={vdiRef}&format=vhd&session_id={session}",
            HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return response;
    }
}
