using System.Globalization;

namespace XcrCluster.Xapi;

/// <summary>
/// The pool answered something the client will not take: a reply over the size cap, one that does not parse or
/// has the wrong shape, or a redirect to where the session must not go. An <see cref="XapiException"/> (code
/// XCR_PROTOCOL_ERROR, parameters endpoint, method, problem), so every caller treats it as a pool failure.
/// </summary>
public sealed class XapiProtocolException : XapiException
{
    public const string ProtocolError = "XCR_PROTOCOL_ERROR";

    /// <param name="endpoint">host:port of the pool member that answered.</param>
    /// <param name="method">The XAPI method or HTTP handler whose reply it was.</param>
    public XapiProtocolException(string endpoint, string method, string problem, Exception? inner = null)
        : base(ProtocolError, [endpoint, method, problem], $"{ProtocolError}: {method} on {endpoint}: {problem}", inner)
    {
    }

    /// <summary>The endpoint as these errors name it: host:port, the port explicit even when it is the default.</summary>
    public static string Name(Uri url) => $"{url.Host}:{url.Port}";

    public static string Size(long bytes) => bytes % (1 << 20) == 0
        ? $"{bytes >> 20} MiB"
        : $"{bytes.ToString(CultureInfo.InvariantCulture)} bytes";

    /// <summary>Whether a decoder's exception means the reply was malformed (rather than a bug or an I/O error).</summary>
    public static bool IsMalformedReply(Exception e)
        => e is not ObjectDisposedException and (System.Text.Json.JsonException or System.Xml.XmlException or FormatException
        or InvalidOperationException or InvalidCastException or OverflowException or ArgumentException or KeyNotFoundException);
}
