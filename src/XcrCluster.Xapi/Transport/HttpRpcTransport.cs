using System.Net;
using System.Net.Http.Headers;
using System.Text;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Xapi.Transport;

/// <summary>JSON-RPC on POST /jsonrpc or XML-RPC on POST /, over one shared HttpClient. A reply is read up to
/// <paramref name="maxResponseBytes"/> and must decode: anything else is an <see cref="XapiProtocolException"/>.</summary>
public sealed class HttpRpcTransport(HttpClient http, Uri baseUrl, bool json,
    long maxResponseBytes = XapiClientOptions.DefaultMaxResponseBytes)
    : IXapiTransport
{
    private readonly string endpoint = XapiProtocolException.Name(baseUrl);
    private long nextId;

    public string Name => json ? "json-rpc" : "xml-rpc";

    public async Task<object?> CallAsync(string method, IReadOnlyList<object?> parameters, CancellationToken ct)
    {
        HttpContent content = json
            ? new ByteArrayContent(JsonRpc.EncodeRequest(method, parameters, Interlocked.Increment(ref nextId)))
            : new ByteArrayContent(Encoding.UTF8.GetBytes(XmlRpc.EncodeCall(method, parameters)));
        content.Headers.ContentType = new MediaTypeHeaderValue(json ? JsonRpc.ContentType : XmlRpc.ContentType);
        // Headers only: PostAsync would buffer the whole body (up to 2 GiB) before the cap could act.
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, json ? "jsonrpc" : "")) { Content = content };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (json && (response.StatusCode == HttpStatusCode.NotFound || (response.IsSuccessStatusCode && mediaType != JsonRpc.ContentType)))
        {
            throw new UnsupportedTransportException($"{baseUrl} answered /jsonrpc with {(int)response.StatusCode} {mediaType}");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{method}: HTTP {(int)response.StatusCode} from {baseUrl}", null, response.StatusCode);
        }

        var body = await BoundedBody.ReadAsync(response.Content, maxResponseBytes,
            problem => new XapiProtocolException(endpoint, method, $"reply refused: {problem}"), ct)
            .ConfigureAwait(false);
        try
        {
            return json ? JsonRpc.DecodeResponse(body.Span) : XmlRpc.DecodeResponse(body);
        }
        catch (Exception e) when (XapiProtocolException.IsMalformedReply(e))
        {
            throw new XapiProtocolException(endpoint, method, $"unreadable reply ({e.GetType().Name}: {e.Message})", e);
        }
    }
}

/// <summary>JSON-RPC first; on a server that does not speak it, XML-RPC from then on (as XAPI clients do).</summary>
public sealed class AutoTransport(HttpClient http, Uri baseUrl,
    long maxResponseBytes = XapiClientOptions.DefaultMaxResponseBytes) : IXapiTransport
{
    private IXapiTransport current = new HttpRpcTransport(http, baseUrl, json: true, maxResponseBytes);

    public string Name => current.Name;

    public async Task<object?> CallAsync(string method, IReadOnlyList<object?> parameters, CancellationToken ct)
    {
        try
        {
            return await current.CallAsync(method, parameters, ct).ConfigureAwait(false);
        }
        catch (UnsupportedTransportException)
        {
            current = new HttpRpcTransport(http, baseUrl, json: false, maxResponseBytes);
            return await current.CallAsync(method, parameters, ct).ConfigureAwait(false);
        }
    }
}
