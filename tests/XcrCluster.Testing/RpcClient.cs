using XcrCluster.Xapi;
using System.Net.Http.Headers;
using System.Text;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Testing;

/// <summary>A bare XAPI caller for tests: raw HTTP, either transport, errors raised as XapiException.
/// Keeps the last raw response so tests can assert on the wire text itself.</summary>
public sealed class RpcClient(Uri url, RpcClient.Transport transport, HttpClient? http = null) : IDisposable
{
    private readonly HttpClient http = http ?? new HttpClient();

    public enum Transport
    {
        Json,
        Xml,
    }

    public string? Session { get; private set; }

    public string LastResponse { get; private set; } = "";

    public HttpResponseMessage? LastHttpResponse { get; private set; }

    public async Task<string> LoginAsync(string user = "root", string password = "password")
    {
        Session = (string)(await CallRawAsync("session.login_with_password", user, password))!;
        return Session;
    }

    /// <summary>Calls a method with the session first.</summary>
    public Task<object?> CallAsync(string method, params object?[] args) => CallRawAsync(method, [Session, .. args]);

    public async Task<Dictionary<string, object?>> RecordAsync(string cls, string @ref) => (Dictionary<string, object?>)(await CallAsync($"{cls}.get_record", @ref))!;

    /// <summary>The uuid of the (non-snapshot) object of class VM, SR, ... with this name.</summary>
    public async Task<string> UuidAsync(string cls, string name)
        => (string)(await AllRecordsAsync(cls)).Values.First(r => (string)r["name_label"]! == name && r.GetValueOrDefault("is_a_snapshot") is not true)["uuid"]!;

    public async Task<Dictionary<string, Dictionary<string, object?>>> AllRecordsAsync(string cls)
        => ((Dictionary<string, object?>)(await CallAsync($"{cls}.get_all_records"))!).ToDictionary(p => p.Key, p => (Dictionary<string, object?>)p.Value!);

    /// <summary>Calls a method with exactly the given parameters (no session added).</summary>
    public async Task<object?> CallRawAsync(string method, params object?[] parameters)
    {
        HttpContent content = transport == Transport.Json
            ? new ByteArrayContent(JsonRpc.EncodeRequest(method, parameters, 0))
            : new StringContent(XmlRpc.EncodeCall(method, parameters), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(transport == Transport.Json ? JsonRpc.ContentType : XmlRpc.ContentType);
        LastHttpResponse = await http.PostAsync(transport == Transport.Json ? new Uri(url, "jsonrpc") : url, content);
        LastResponse = await LastHttpResponse.Content.ReadAsStringAsync();
        return transport == Transport.Json ? JsonRpc.DecodeResponse(Encoding.UTF8.GetBytes(LastResponse)) : XmlRpc.DecodeResponse(LastResponse);
    }

    public void Dispose() => http.Dispose();
}
