using XcrCluster.Xapi;
using System.Net.Http.Headers;
using System.Text;
using XcrCluster.XapiSim.Model;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Tests;

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

    public async Task<Dictionary<string, Dictionary<string, object?>>> AllRecordsAsync(string cls)
        => ((Dictionary<string, object?>)(await CallAsync($"{cls}.get_all_records"))!).ToDictionary(p => p.Key, p => (Dictionary<string, object?>)p.Value!);

    /// <summary>Calls a method with exactly the given parameters (no session added).</summary>
    public async Task<object?> CallRawAsync(string method, params object?[] parameters)
    {
        if (transport == Transport.Json)
        {
            using var buffer = new MemoryStream();
            using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("jsonrpc", "2.0");
                w.WriteString("method", method);
                w.WritePropertyName("params");
                JsonRpc.WriteValue(w, parameters.ToList());
                w.WriteNumber("id", 0);
                w.WriteEndObject();
            }

            var content = new ByteArrayContent(buffer.ToArray());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            LastHttpResponse = await http.PostAsync(new Uri(url, "jsonrpc"), content);
            LastResponse = await LastHttpResponse.Content.ReadAsStringAsync();
            using var doc = System.Text.Json.JsonDocument.Parse(LastResponse);
            if (doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                var data = error.GetProperty("data").EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
                throw new XapiException(error.GetProperty("message").GetString()!, data);
            }

            return JsonRpc.FromJson(doc.RootElement.GetProperty("result"));
        }

        var xml = new StringBuilder("<?xml version=\"1.0\"?><methodCall><methodName>").Append(method).Append("</methodName><params>");
        foreach (var p in parameters)
        {
            xml.Append("<param>");
            XmlRpc.AppendValue(xml, p);
            xml.Append("</param>");
        }

        xml.Append("</params></methodCall>");
        LastHttpResponse = await http.PostAsync(url, new StringContent(xml.ToString(), Encoding.UTF8, "text/xml"));
        LastResponse = await LastHttpResponse.Content.ReadAsStringAsync();
        var doc2 = new System.Xml.XmlDocument();
        doc2.LoadXml(LastResponse);
        var value = XmlRpc.DecodeValue((System.Xml.XmlElement)doc2.SelectSingleNode("/methodResponse/params/param/value")!);
        if (value is Dictionary<string, object?> wrapper && wrapper.TryGetValue("Status", out var status))
        {
            if ((string?)status == "Success")
            {
                return wrapper["Value"];
            }

            var description = ((List<object?>)wrapper["ErrorDescription"]!).Select(x => x?.ToString() ?? "").ToArray();
            throw new XapiException(description[0], description[1..]);
        }

        return value;
    }

    public void Dispose() => http.Dispose();
}
