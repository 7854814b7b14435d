using System.Net;
using XcrCluster.Xapi.Transport;

namespace XcrCluster.Xapi;

public sealed partial class XapiClient
{
    private const int MaxRedirects = 3;

    /// <summary>
    /// GET /export_raw_vdi: the disk (or, with a base, the blocks changed since it) as a stream read with
    /// backpressure, tied to a task. Follows XAPI's 302 to the host that holds the disk (only within the pool,
    /// same scheme: see XapiClient.Redirects.cs); a stalled body fails after the stall timeout.
    /// </summary>
    public async Task<VdiExport> ExportVdiAsync(string vdi, VdiFormat format, string? baseVdi = null, Action<long>? progress = null,
        CancellationToken ct = default)
    {
        var task = await CreateTaskAsync($"xcr export {vdi}", "", ct).ConfigureAwait(false);
        try
        {
            var query = $"vdi={Uri.EscapeDataString(vdi)}&format={Format(format)}"
                + (baseVdi is null ? "" : $"&base={Uri.EscapeDataString(baseVdi)}");
            var url = TransferUrl("export_raw_vdi/", query, task);
            for (var hop = 0; ; hop++)
            {
                using var headers = CancellationTokenSource.CreateLinkedTokenSource(ct);
                headers.CancelAfter(options.CallTimeout);
                HttpResponseMessage response;
                try
                {
                    response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, url), HttpCompletionOption.ResponseHeadersRead,
                        headers.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new TimeoutException($"export of VDI {vdi}: no response "
                        + $"from {url.Host} within {options.CallTimeout.TotalSeconds:F0} s");
                }

                if (response.StatusCode is HttpStatusCode.Found or HttpStatusCode.RedirectKeepVerb
                    && response.Headers.Location is { } location && hop < MaxRedirects)
                {
                    response.Dispose();
                    url = await FollowableRedirectAsync(url, location, $"the export of VDI {vdi}", ct).ConfigureAwait(false);
                    Log($"export of {vdi} redirected to {url.Host}");
                    continue;
                }

                if (response.StatusCode != HttpStatusCode.OK)
                {
                    using (response)
                    {
                        throw new HttpRequestException($"export of VDI {vdi}: HTTP {(int)response.StatusCode} from {url.Host}", null,
                            response.StatusCode);
                    }
                }

                Stream body;
                try
                {
                    using var first = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    first.CancelAfter(options.StallTimeout);
                    body = await ExportBodyCheck.CheckAsync(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false),
                        $"export of VDI {vdi}", first.Token)
                        .ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    response.Dispose();
                    throw new TimeoutException(
                        $"export of VDI {vdi}: no data moved for {options.StallTimeout.TotalSeconds:F0} s (after 0 bytes)");
                }
                catch
                {
                    response.Dispose();
                    throw;
                }

                var guard = new StallGuardStream(body, options.StallTimeout, $"export of VDI {vdi}", progress, response.Dispose);
                return new VdiExport(this, task, guard);
            }
        }
        catch
        {
            await DestroyTaskAsync(task).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// PUT /import_raw_vdi with an exact Content-Length (XAPI refuses chunked uploads) from any stream, tied to
    /// a task; returns the VDI ref the task reports. A peer that stops reading fails after the stall timeout.
    /// </summary>
    public Task<string> ImportVdiAsync(string vdi, Stream content, long length, VdiFormat format, Action<long>? progress = null,
        CancellationToken ct = default)
        => ImportVdiAsync(vdi, (body, token) => content.CopyToAsync(body, 1 << 20, token), length, format, progress, ct);

    /// <summary>
    /// PUT /import_raw_vdi whose body <paramref name="writeBody"/> writes onto the request stream itself, exactly
    /// <paramref name="length"/> bytes (XAPI refuses chunked uploads; the HTTP stack checks the count): the caller's
    /// buffers reach the socket without a copy of ours. Tied to a task; returns the VDI ref the task reports. The
    /// stall guard is on the request: nothing written for the stall timeout (a peer that stops reading, or a body
    /// with nothing to write) fails it with a <see cref="TimeoutException"/>.
    /// </summary>
    public async Task<string> ImportVdiAsync(string vdi, Func<Stream, CancellationToken, Task> writeBody, long length, VdiFormat format,
        Action<long>? progress = null, CancellationToken ct = default)
    {
        var task = await CreateTaskAsync($"xcr import {vdi}", "", ct).ConfigureAwait(false);
        try
        {
            var url = TransferUrl("import_raw_vdi/", $"vdi={Uri.EscapeDataString(vdi)}&format={Format(format)}", task);
            // The guard exists (and watches) from before the connection opens; the request stream joins it once open.
            var request = new LateStream();
            await using var guard = new StallGuardStream(request, options.StallTimeout, $"import into VDI {vdi}", progress,
                leaveOpen: true);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, guard.Token);
            var body = new PushContent((stream, token) =>
            {
                request.Target = stream;
                return writeBody(guard, token);
            }, length);
            var message = new HttpRequestMessage(HttpMethod.Put, url) { Content = body };
            message.Headers.ExpectContinue = false;
            try
            {
                using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token)
                    .ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new HttpRequestException($"import into VDI {vdi}: HTTP {(int)response.StatusCode} from {url.Host}", null,
                        response.StatusCode);
                }

                await BoundedBody.DrainAsync(response.Content, options.MaxResponseBytes,
                    problem => new XapiProtocolException(XapiProtocolException.Name(url), "import_raw_vdi", $"reply refused: {problem}"),
                        linked.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (guard.HasStalled && !ct.IsCancellationRequested
                && e is OperationCanceledException or HttpRequestException or IOException or TimeoutException)
            {
                throw guard.StallError();
            }

            var result = ResultOf("import_raw_vdi", await WaitForTaskAsync(task, ct).ConfigureAwait(false));
            return result as string is { Length: > 0 } r ? r : vdi;
        }
        finally
        {
            await DestroyTaskAsync(task).ConfigureAwait(false);
        }
    }

    private Uri TransferUrl(string path, string query, string task)
        => new(Endpoint.Url, $"{path}?{query}&session_id={Uri.EscapeDataString(Session)}&task_id={Uri.EscapeDataString(task)}");

    private static string Format(VdiFormat format) => format == VdiFormat.Vhd ? "vhd" : "raw";
}
