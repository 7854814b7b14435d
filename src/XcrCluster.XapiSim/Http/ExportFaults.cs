using System.Text;
using Microsoft.AspNetCore.Http.Features;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Rpc;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// The export faults: how the body is cut (reset, clean close, cancellation), a plain 500, and a delta export
/// failing the way XAPI's does, with the exact bytes XAPI's HTTP server puts on the wire.
/// </summary>
internal static class ExportFaults
{
    /// <summary>vhd_tool_wrapper.ml `send`: `failwith "Cannot compute differences on non-VHD images"`; the task
    /// error is ExnHelper.error_of_exn of that Failure, i.e. INTERNAL_ERROR [Printexc.to_string e].</summary>
    public const string DeltaFailure = "Failure(\"Cannot compute differences on non-VHD images\")";

    /// <summary>Thrown at the closeExportAfterBytes point: the handler ends the body as if it were complete.</summary>
    public sealed class CleanClose(long bytes) : Exception($"export body closed by fault injection after {bytes} bytes");

    /// <summary>With the RedirectExports fault, the disk lives on the pool's last host: a request reaching
    /// another host gets XAPI's 302 to it, same path and query.</summary>
    public static bool Redirect(SimServer server, HttpContext context)
    {
        if (!server.Pool.Faults.RedirectExports || server.HostUrls.Count < 2)
        {
            return false;
        }

        XapiObject holder;
        lock (server.Pool.Db.Sync)
        {
            holder = server.Pool.Hosts[^1];
        }

        if (server.HostOf(context) == holder.Ref)
        {
            return false;
        }

        var scheme = context.Request.IsHttps ? "https" : "http";
        context.Response.StatusCode = StatusCodes.Status302Found;
        var (request, port) = (context.Request, context.Connection.LocalPort);
        context.Response.Headers.Location = $"{scheme}://{holder.Str("address")}:{port}{request.Path}{request.QueryString}";
        context.Response.Headers.Connection = "close";
        return true;
    }

    /// <summary>The first of resetExportAfterBytes, closeExportAfterBytes and cancelExportAfterBytes.</summary>
    public static WireCut? Cut(HttpTransfer transfer)
    {
        var faults = transfer.Pool.Faults;
        return WireCut.First(
            WireCut.Reset(transfer.Context, faults.ResetExportAfterBytes),
            WireCut.When(faults.CloseExportAfterBytes, n => new CleanClose(n)),
            // As if task.cancel came: the handler ends the task "cancelled" and closes the connection.
            WireCut.When(faults.CancelExportAfterBytes, _ => new XapiException(Tasks.Cancelled, transfer.Task.Ref)));
    }

    /// <summary>exportStatus500: what http_svr.ml `response_internal_error` answers when a handler raises before
    /// sending anything (`HTTP/1.1 500 Internal Error`, text/html, connection close); the task fails with
    /// INTERNAL_ERROR [the exception's text] (exnHelper.ml), here a Failure naming the fault.</summary>
    public static async Task Status500Async(HttpTransfer transfer)
    {
        const string reason = "Failure(\"xcr-xapi-sim: exportStatus500 fault\")";
        Tasks.Fail(transfer.Pool.Db, transfer.Task, new XapiException("INTERNAL_ERROR", reason));
        var response = transfer.Context.Response;
        response.Headers.Remove("task-id");
        response.StatusCode = StatusCodes.Status500InternalServerError;
        transfer.Context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = "Internal Error";
        response.Headers.ContentType = "text/html";
        response.Headers.Connection = "close";
        response.Headers.CacheControl = "no-cache, no-store";
        var body = InternalErrorHtml(System.Net.WebUtility.HtmlEncode(reason));
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, transfer.Context.RequestAborted);
    }

    /// <summary>
    /// failDeltaExports, as export_raw_vdi.ml does it: the 200 headers are already out when
    /// Vhd_tool_wrapper.send fails; the handler fails the task (TaskHelper.failed) and re-raises, and
    /// http_svr.ml `handle_one` then writes a whole `HTTP/1.1 500 Internal Error` response into what the client
    /// reads as the 200's body (xen-api issue 4603, which Xen Orchestra checks for) before closing.
    /// </summary>
    public static async Task DeltaFailureAsync(HttpTransfer transfer, Stream body)
    {
        Tasks.Fail(transfer.Pool.Db, transfer.Task, new XapiException("INTERNAL_ERROR", DeltaFailure));
        var html = InternalErrorHtml(System.Net.WebUtility.HtmlEncode(DeltaFailure));

        // Http.Response.to_wire_string: status, content-length, then response_error_html's headers in its order.
        var head = "HTTP/1.1 500 Internal Error\r\n" +
            $"content-length: {html.Length}\r\ncontent-type: text/html\r\nconnection: close\r\ncache-control: no-cache, no-store\r\n\r\n";
        await body.WriteAsync(Encoding.ASCII.GetBytes(head), transfer.Context.RequestAborted);
        await body.WriteAsync(html, transfer.Context.RequestAborted);
    }

    /// <summary>http_svr.ml `response_internal_error`'s page with its "Additional information".</summary>
    private static byte[] InternalErrorHtml(string extra) => Encoding.UTF8.GetBytes(
        "<html><body><h1>HTTP 500 internal server error</h1>An unexpected error occurred; please wait a while and try again. "
        + "If the problem persists, please contact your support representative.<h1> Additional information </h1>"
        + extra + "</body></html>");
}
