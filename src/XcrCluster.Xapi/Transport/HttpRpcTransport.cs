using System.Net;
using System.Net.Http.Headers;
using System.Text;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Xapi.Transport;

/// <summary>JSON-RPC on POST /jsonrpc or XML-RPC on POST /, over one shared HttpClient.</summary>
public sealed class HttpRpcTransport(HttpClient http, Uri baseUrl, bool json) : IXapiTransport
{
    private long nextId;

    public string Name => json ? "json-rpc" : "xml-rpc";

    public async Task<object?> CallAsync(string method, IReadOnlyList<object?> parameters, CancellationToken ct)
    {
        HttpContent content = json
            ? new ByteArrayContent(JsonRpc.EncodeRequest(method, parameters, Interlocked.Increment(ref nextId)))
            : new ByteArrayContent(Encoding.UTF8.GetBytes(XmlRpc.EncodeCall(method, parameters)));
        content.Headers.ContentType = new MediaTypeHeaderValue(json ? JsonRpc.ContentType : XmlRpc.ContentType);
        using var response = await http.PostAsync(new Uri(baseUrl, json ? "jsonrpc" : ""), content, ct).ConfigureAwait(false);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (json && (response.StatusCode == HttpStatusCode.NotFound || (response.IsSuccessStatusCode && mediaType != JsonRpc.ContentType)))
        {
            throw new UnsupportedTransportException($"{baseUrl} answered /jsonrpc with {(int)response.StatusCode} {mediaType}");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{method}: HTTP {(int)response.StatusCode} from {baseUrl}", null, response.StatusCode);
        }

        var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        return json ? JsonRpc.DecodeResponse(body) : XmlRpc.DecodeResponse(Encoding.UTF8.GetString(body));
    }
}

/// <summary>JSON-RPC first; on a server that does not speak it, XML-RPC from then on (as XAPI clients do).</summary>
public sealed class AutoTransport(HttpClient http, Uri baseUrl) : IXapiTransport
{
    private IXapiTransport current = new HttpRpcTransport(http, baseUrl, json: true);

    public string Name => current.Name;

    public async Task<object?> CallAsync(string method, IReadOnlyList<object?> parameters, CancellationToken ct)
    {
        try
        {
            return await current.CallAsync(method, parameters, ct).ConfigureAwait(false);
        }
        catch (UnsupportedTransportException)
        {
            current = new HttpRpcTransport(http, baseUrl, json: false);
            return await current.CallAsync(method, parameters, ct).ConfigureAwait(false);
        }
    }
}
