using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Xml;

namespace XcrCluster.Xapi.Wire;

/// <summary>
/// XML-RPC as XAPI speaks it (ocaml-rpc, non-strict): compact output with no whitespace between elements
/// (the npm client's parser breaks on any), untyped strings, ints as bare strings, empty string as
/// &lt;value&gt;&lt;/value&gt;, Int32 as &lt;i4&gt;, a Status/Value wrapper around every result but system.listMethods.
/// </summary>
public static class XmlRpc
{
    public const string ContentType = "text/xml";

    /// <summary>Deeper than any XAPI value (records of maps of sets); bounds the decoder's recursion, as
    /// System.Text.Json's default depth of 64 bounds the JSON side.</summary>
    private const int MaxDepth = 64;

    public static string EncodeValue(object? value)
    {
        var sb = new StringBuilder();
        AppendValue(sb, value);
        return sb.ToString();
    }

    public static void AppendValue(StringBuilder sb, object? value)
    {
        sb.Append("<value>");
        switch (value)
        {
            case null:
                sb.Append("<nil/>");
                break;
            case string s:
                AppendEscaped(sb, s);
                break;
            case bool b:
                sb.Append("<boolean>").Append(b ? '1' : '0').Append("</boolean>");
                break;
            case int i:
                sb.Append("<i4>").Append(i.ToString(CultureInfo.InvariantCulture)).Append("</i4>");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append("<double>").Append(d.ToString("G16", CultureInfo.InvariantCulture)).Append("</double>");
                break;
            case DateTime t:
                sb.Append("<dateTime.iso8601>").Append(XapiValue.FormatDateTime(t)).Append("</dateTime.iso8601>");
                break;
            case IDictionary<string, object?> map:
                sb.Append("<struct>");
                foreach (var (key, item) in map)
                {
                    sb.Append("<member><name>");
                    AppendEscaped(sb, key);
                    sb.Append("</name>");
                    AppendValue(sb, item);
                    sb.Append("</member>");
                }

                sb.Append("</struct>");
                break;
            case System.Collections.IEnumerable list:
                sb.Append("<array><data>");
                foreach (var item in list)
                {
                    AppendValue(sb, item);
                }

                sb.Append("</data></array>");
                break;
            default:
                throw new ArgumentException($"no XML-RPC encoding for {value.GetType().Name}");
        }

        sb.Append("</value>");
    }

    public static string EncodeSuccess(object? value, bool wrap = true)
    {
        var sb = new StringBuilder("<?xml version=\"1.0\"?><methodResponse><params><param>");
        if (wrap)
        {
            sb.Append("<value><struct><member><name>Status</name><value>Success</value></member><member><name>Value</name>");
            AppendValue(sb, value);
            sb.Append("</member></struct></value>");
        }
        else
        {
            AppendValue(sb, value);
        }

        return sb.Append("</param></params></methodResponse>").ToString();
    }

    public static string EncodeFailure(IReadOnlyList<string> errorDescription)
    {
        var sb = new StringBuilder("<?xml version=\"1.0\"?><methodResponse><params><param>");
        sb.Append("<value><struct><member><name>Status</name><value>Failure</value></member><member><name>ErrorDescription</name>");
        AppendValue(sb, errorDescription);
        return sb.Append("</member></struct></value></param></params></methodResponse>").ToString();
    }

    /// <summary>A call as a client sends it (compact; ints as decimal strings, which XAPI accepts).</summary>
    public static string EncodeCall(string method, IEnumerable<object?> parameters)
    {
        var sb = new StringBuilder("<?xml version=\"1.0\"?><methodCall><methodName>");
        AppendEscaped(sb, method);
        sb.Append("</methodName><params>");
        foreach (var p in parameters)
        {
            sb.Append("<param>");
            AppendValue(sb, p);
            sb.Append("</param>");
        }

        return sb.Append("</params></methodCall>").ToString();
    }

    /// <summary>A method response: the Value of a Success, the value itself when there is no Status wrapper
    /// (system.listMethods), or an <see cref="XapiException"/> built from a Failure's ErrorDescription.</summary>
    public static object? DecodeResponse(string xml) => DecodeResponse(Load(new StringReader(xml)));

    /// <summary>A method response as the bytes arrived, read as UTF-8 (what XAPI sends).</summary>
    public static object? DecodeResponse(ReadOnlyMemory<byte> body)
    {
        var bytes = MemoryMarshal.TryGetArray(body, out var segment) ? segment : new ArraySegment<byte>(body.ToArray());
        using var stream = new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false);
        return DecodeResponse(Load(new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true)));
    }

    private static object? DecodeResponse(XmlDocument doc)
    {
        if (doc.SelectSingleNode("/methodResponse/fault/value") is XmlElement fault)
        {
            var f = DecodeValue(fault) as Dictionary<string, object?>;
            throw new XapiException("Fault", f?.GetValueOrDefault("faultString")?.ToString() ?? "");
        }

        var element = doc.SelectSingleNode("/methodResponse/params/param/value") as XmlElement
            ?? throw new FormatException("no <methodResponse> value");
        var value = DecodeValue(element);
        if (value is not Dictionary<string, object?> wrapper || !wrapper.TryGetValue("Status", out var status))
        {
            return value;
        }

        if (status as string == "Success")
        {
            return wrapper.GetValueOrDefault("Value");
        }

        var description = (wrapper.GetValueOrDefault("ErrorDescription") as List<object?> ?? []).Select(x => x?.ToString() ?? "").ToList();
        throw description.Count == 0 ? new XapiException("INTERNAL_ERROR", "empty ErrorDescription")
            : new XapiException(description[0], [.. description.Skip(1)]);
    }

    public static (string Method, List<object?> Params) DecodeCall(string xml)
    {
        var doc = Load(new StringReader(xml));
        var call = doc.DocumentElement is { Name: "methodCall" } root ? root : throw new FormatException("no <methodCall>");
        var method = call["methodName"]?.InnerText.Trim() ?? throw new FormatException("no <methodName>");
        var list = new List<object?>();
        if (call["params"] is { } ps)
        {
            foreach (var p in ps.ChildNodes.OfType<XmlElement>().Where(e => e.Name == "param"))
            {
                list.Add(DecodeValue(p["value"] ?? throw new FormatException("<param> without <value>")));
            }
        }

        return (method, list);
    }

    /// <summary>Parses one &lt;value&gt; element (also what a task's result field holds).</summary>
    public static object? DecodeValue(XmlElement value) => DecodeValue(value, 0);

    private static object? DecodeValue(XmlElement value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FormatException($"XML-RPC values nested deeper than {MaxDepth}");
        }

        var typed = value.ChildNodes.OfType<XmlElement>().FirstOrDefault();
        if (typed is null)
        {
            return value.InnerText;
        }

        var text = typed.InnerText;
        return typed.Name switch
        {
            "string" => text,
            "int" or "i4" or "i8" => long.Parse(text.Trim(), CultureInfo.InvariantCulture),
            "boolean" => text.Trim() == "1" || text.Trim().Equals("true", StringComparison.OrdinalIgnoreCase),
            "double" => double.Parse(text.Trim(), CultureInfo.InvariantCulture),
            "dateTime.iso8601" => XapiValue.TryParseDateTime(text.Trim(), out var t) ? t : text,
            "nil" => null,
            "base64" => text,
            "struct" => typed.ChildNodes.OfType<XmlElement>().Where(m => m.Name == "member").ToDictionary(
                m => m["name"]?.InnerText ?? "",
                m => m["value"] is { } v ? DecodeValue(v, depth + 1) : null),
            "array" => (typed["data"]?.ChildNodes.OfType<XmlElement>().Where(v => v.Name == "value").Select(v => DecodeValue(v, depth + 1))
                .ToList()) ?? [],
            _ => throw new FormatException($"unknown XML-RPC type <{typed.Name}>"),
        };
    }

    public static object? DecodeValue(string fragment)
        => DecodeValue(Load(new StringReader(fragment)).DocumentElement ?? throw new FormatException("no XML-RPC value"));

    /// <summary>Parses as XmlDocument.LoadXml does (no line-end normalisation) but refuses any DTD: XAPI never
    /// sends one, and a DTD's entities can expand a small reply into gigabytes.</summary>
    private static XmlDocument Load(TextReader text)
    {
        var doc = new XmlDocument { XmlResolver = null };
        using var reader = new XmlTextReader(text, doc.NameTable) { DtdProcessing = DtdProcessing.Prohibit };
        doc.Load(reader);
        return doc;
    }

    private static void AppendEscaped(StringBuilder sb, string s)
    {
        foreach (var c in s)
        {
            _ = c switch
            {
                '&' => sb.Append("&amp;"),
                '<' => sb.Append("&lt;"),
                '>' => sb.Append("&gt;"),
                '"' => sb.Append("&quot;"),
                _ => sb.Append(c),
            };
        }
    }
}
