using XcrCluster.Xapi;
using System.Text;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Rpc;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Http;

/// <summary>JSON-RPC on POST /jsonrpc, XML-RPC on POST /, /RPC2, /xmlrpc and any other POST, with XAPI's exact
/// content types (no charset: the npm client compares the header string) and HTTP 200 for XAPI errors.</summary>
public static class RpcEndpoints
{
    public static void Map(WebApplication app, SimServer server)
    {
        app.MapGet("/export_raw_vdi/{**rest}", context => ExportEndpoint.HandleAsync(server, context));
        app.MapPut("/import_raw_vdi/{**rest}", context => ImportEndpoint.HandleAsync(server, context));
        app.MapGet(XvaExport.Endpoint, context => XvaExport.HandleAsync(server, context));
        app.MapPut(XvaImport.Endpoint, context => XvaImport.HandleAsync(server, context));
        SimRoutes.Map(app, server);
        app.MapPost("/jsonrpc", context => JsonAsync(context, server));
        app.MapPost("/", context => XmlAsync(context, server));
        app.MapPost("/{**path}", context => XmlAsync(context, server));
    }

    private static async Task JsonAsync(HttpContext context, SimServer server)
    {
        var pool = server.Pool;
        pool.Stats.Request("/jsonrpc", context.Request.Headers.UserAgent.ToString());
        if (pool.Faults.DisableJsonRpc)
        {
            // An old host without JSON-RPC: /jsonrpc falls through to the XML-RPC handler, which cannot parse the
            // body. Clients recognise the text/xml answer and switch to XML-RPC for good.
            await WriteAsync(context, XmlRpc.ContentType,
                Encoding.UTF8.GetBytes(XmlRpc.EncodeFailure(["INTERNAL_ERROR", "JSON-RPC is not supported by this host"])));
            return;
        }

        JsonRpc.Request request;
        try
        {
            request = JsonRpc.DecodeRequest(await ReadBodyAsync(context));
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            await MalformedAsync(context, e.Message);
            return;
        }

        byte[] body;
        try
        {
            var result = await pool.Dispatcher.DispatchAsync(
                request.Method, request.Params, server.HostOf(context), context.RequestAborted);
            body = JsonRpc.EncodeSuccess(request, result);
        }
        catch (XapiException e)
        {
            body = JsonRpc.EncodeFailure(request, e.Description);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            body = JsonRpc.EncodeFailure(request, Internal(e).Description);
        }

        await WriteAsync(context, JsonRpc.ContentType, Malformed(pool, request.Method, body));
    }

    private static async Task XmlAsync(HttpContext context, SimServer server)
    {
        var pool = server.Pool;
        var path = context.Request.Path.Value is "/" or "/RPC2" or "/xmlrpc" ? context.Request.Path.Value : "/";
        pool.Stats.Request(path, context.Request.Headers.UserAgent.ToString());
        string method;
        List<object?> parameters;
        try
        {
            (method, parameters) = XmlRpc.DecodeCall(Encoding.UTF8.GetString(await ReadBodyAsync(context)));
        }
        catch (Exception e) when (e is FormatException or System.Xml.XmlException)
        {
            await MalformedAsync(context, e.Message);
            return;
        }

        string xml;
        try
        {
            var result = await pool.Dispatcher.DispatchAsync(method, parameters, server.HostOf(context), context.RequestAborted);
            xml = XmlRpc.EncodeSuccess(result, wrap: method != Dispatcher.ListMethods);
        }
        catch (XapiException e)
        {
            xml = XmlRpc.EncodeFailure(e.Description);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            xml = XmlRpc.EncodeFailure(Internal(e).Description);
        }

        await WriteAsync(context, XmlRpc.ContentType, Malformed(pool, method, Encoding.UTF8.GetBytes(xml)));
    }

    /// <summary>The malformedReplies fault: the first half of the reply, which parses neither as JSON nor as XML
    /// (the closing brace or the closing tags are gone), still HTTP 200 with its content type.</summary>
    private static byte[] Malformed(SimPool pool, string method, byte[] body)
        => pool.Faults.TakeMalformedReply(Dispatcher.Unprefixed(method)) ? body[..(body.Length / 2)] : body;

    /// <summary>A simulator bug surfaces as XAPI's INTERNAL_ERROR, never as an empty HTTP 500.</summary>
    private static XapiException Internal(Exception e)
    {
        Console.Error.WriteLine($"xcr-xapi-sim: internal error: {e}");
        return new XapiException("INTERNAL_ERROR", e.Message);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.ToArray();
    }

    private static async Task WriteAsync(HttpContext context, string contentType, byte[] body)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.ContentType = contentType;
        context.Response.Headers.AccessControlAllowOrigin = "*";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static async Task MalformedAsync(HttpContext context, string message)
    {
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        context.Response.Headers.ContentType = "text/html";
        await context.Response.Body.WriteAsync(
            Encoding.UTF8.GetBytes("<html><body><h1>HTTP 500 internal server error</h1>"
                + $"{System.Net.WebUtility.HtmlEncode(message)}</body></html>"));
    }
}
