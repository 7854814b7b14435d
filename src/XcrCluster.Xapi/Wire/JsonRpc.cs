using System.Text;
using System.Text.Json;

namespace XcrCluster.Xapi.Wire;

/// <summary>
/// JSON-RPC as XAPI answers it: v2 responses {"jsonrpc":"2.0","result"|"error",id} with error code 1 and the
/// XAPI error code as message, v1 responses {"result","error","id"} to requests without "jsonrpc". The
/// Content-Type must be exactly application/json or the npm client falls back to XML-RPC for good.
/// </summary>
public static class JsonRpc
{
    public const string ContentType = "application/json";

    public sealed record Request(JsonElement? Id, bool V2, string Method, List<object?> Params);

    public static Request DecodeRequest(ReadOnlySpan<byte> body)
    {
        using var doc = JsonDocument.Parse(body.ToArray());
        var root = doc.RootElement;
        var method = root.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : throw new FormatException("no method");
        var list = new List<object?>();
        if (root.TryGetProperty("params", out var ps) && ps.ValueKind == JsonValueKind.Array)
        {
            list.AddRange(ps.EnumerateArray().Select(FromJson));
        }

        JsonElement? id = root.TryGetProperty("id", out var i) ? i.Clone() : null;
        return new Request(id, root.TryGetProperty("jsonrpc", out _), method, list);
    }

    /// <summary>A v2 request as a client sends it.</summary>
    public static byte[] EncodeRequest(string method, IEnumerable<object?> parameters, long id)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", "2.0");
            w.WriteString("method", method);
            w.WritePropertyName("params");
            WriteValue(w, parameters.ToList());
            w.WriteNumber("id", id);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The result of a v1 or v2 response, or the <see cref="XapiException"/> its error describes.</summary>
    public static object? DecodeResponse(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            switch (error.ValueKind)
            {
                case JsonValueKind.Object:
                    var code = error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "INTERNAL_ERROR";
                    var data = error.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Array
                        ? d.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).ToArray() : [];
                    throw new XapiException(code, data);
                case JsonValueKind.Array:
                    var list = error.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).ToList();
                    throw list.Count == 0 ? new XapiException("INTERNAL_ERROR", "empty error") : new XapiException(list[0], [.. list.Skip(1)]);
            }
        }

        return root.TryGetProperty("result", out var result) ? FromJson(result) : throw new FormatException("a JSON-RPC response without result or error");
    }

    public static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => FromJson(p.Value)),
        _ => null,
    };

    public static byte[] EncodeSuccess(Request request, object? result) => Encode(request, w =>
    {
        w.WritePropertyName("result");
        WriteValue(w, result);
        if (!request.V2)
        {
            w.WriteNull("error");
        }
    });

    public static byte[] EncodeFailure(Request request, IReadOnlyList<string> error) => Encode(request, w =>
    {
        if (request.V2)
        {
            w.WriteStartObject("error");
            w.WriteNumber("code", 1);
            w.WriteString("message", error[0]);
            w.WriteStartArray("data");
            foreach (var p in error.Skip(1))
            {
                w.WriteStringValue(p);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("result");
            w.WriteStartArray("error");
            foreach (var p in error)
            {
                w.WriteStringValue(p);
            }

            w.WriteEndArray();
        }
    });

    public static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null:
                w.WriteNullValue();
                break;
            case string s:
                w.WriteStringValue(s);
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case int i:
                w.WriteNumberValue(i);
                break;
            case long l:
                w.WriteNumberValue(l);
                break;
            case double d:
                w.WriteNumberValue(d);
                break;
            case DateTime t:
                w.WriteStringValue(XapiValue.FormatDateTime(t));
                break;
            case IDictionary<string, object?> map:
                w.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    w.WritePropertyName(key);
                    WriteValue(w, item);
                }

                w.WriteEndObject();
                break;
            case System.Collections.IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list)
                {
                    WriteValue(w, item);
                }

                w.WriteEndArray();
                break;
            default:
                throw new ArgumentException($"no JSON encoding for {value.GetType().Name}");
        }
    }

    private static byte[] Encode(Request request, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (request.V2)
            {
                w.WriteString("jsonrpc", "2.0");
            }

            body(w);
            w.WritePropertyName("id");
            if (request.Id is { } id)
            {
                id.WriteTo(w);
            }
            else
            {
                w.WriteNullValue();
            }

            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
