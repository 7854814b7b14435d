using System.Net.Sockets;
using System.Text;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Testing;

/// <summary>What <see cref="HostileXapiServer"/> answers to one request: a well-formed reply, raw bytes, or a
/// body that never ends (with no length, chunked, or under a huge Content-Length).</summary>
public abstract class HostileReply
{
    private const int FastChunk = 64 * 1024;

    /// <summary>A well-formed success in the request's own protocol (JSON-RPC or XML-RPC).</summary>
    public static HostileReply Result(object? value) => new Encoded(r => r.Json is { } json
        ? (JsonRpc.ContentType, JsonRpc.EncodeSuccess(json, value))
        : (XmlRpc.ContentType, Encoding.UTF8.GetBytes(XmlRpc.EncodeSuccess(value))));

    /// <summary>An XAPI error (code first) in the request's own protocol.</summary>
    public static HostileReply Error(params string[] description) => new Encoded(r => r.Json is { } json
        ? (JsonRpc.ContentType, JsonRpc.EncodeFailure(json, description))
        : (XmlRpc.ContentType, Encoding.UTF8.GetBytes(XmlRpc.EncodeFailure(description))));

    /// <summary>Exactly these bytes, with a matching Content-Length (for truncated or ill-shaped replies).</summary>
    public static HostileReply Raw(string body, string contentType = JsonRpc.ContentType)
        => new Encoded(_ => (contentType, Encoding.UTF8.GetBytes(body)));

    /// <summary>A 200 whose JSON-RPC body opens a string and never ends: close-delimited (no Content-Length) or
    /// chunked; fast, or a few bytes per <paramref name="pause"/> (a trickle that never trips a stall check).</summary>
    public static HostileReply Endless(TimeSpan? pause = null, bool chunked = false) => new Endlessly(pause, chunked, null);

    /// <summary>A 200 announcing a Content-Length of <paramref name="length"/> bytes, then streaming data.</summary>
    public static HostileReply HugeContentLength(long length = 1L << 40) => new Endlessly(null, false, length);

    /// <summary>An HTTP 302 to <paramref name="location"/> (as XAPI sends for a disk on another host).</summary>
    public static HostileReply Redirect(string location) => new Head($"302 Found\r\nLocation: {location}");

    /// <summary>Writes the reply; false when the connection must close afterwards.</summary>
    internal abstract Task<bool> WriteAsync(NetworkStream stream, HostileRequest request, Action<long> sent, CancellationToken ct);

    private static Task WriteAsciiAsync(NetworkStream stream, string text, CancellationToken ct)
        => stream.WriteAsync(Encoding.ASCII.GetBytes(text), ct).AsTask();

    private sealed class Encoded(Func<HostileRequest, (string ContentType, byte[] Body)> encode) : HostileReply
    {
        internal override async Task<bool> WriteAsync(NetworkStream stream, HostileRequest request, Action<long> sent, CancellationToken ct)
        {
            var (contentType, body) = encode(request);
            await WriteAsciiAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n\r\n", ct);
            await stream.WriteAsync(body, ct);
            sent(body.Length);
            return true;
        }
    }

    private sealed class Head(string statusAndHeaders) : HostileReply
    {
        internal override async Task<bool> WriteAsync(NetworkStream stream, HostileRequest request, Action<long> sent, CancellationToken ct)
        {
            await WriteAsciiAsync(stream, $"HTTP/1.1 {statusAndHeaders}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", ct);
            return false;
        }
    }

    private sealed class Endlessly(TimeSpan? pause, bool chunked, long? declaredLength) : HostileReply
    {
        internal override async Task<bool> WriteAsync(NetworkStream stream, HostileRequest request, Action<long> sent, CancellationToken ct)
        {
            var framing = declaredLength is { } length ? $"Content-Length: {length}" : chunked ? "Transfer-Encoding: chunked"
                : "Connection: close";
            await WriteAsciiAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: {JsonRpc.ContentType}\r\n{framing}\r\n\r\n", ct);
            const string opening = "{\"jsonrpc\":\"2.0\",\"result\":\"";
            var piece = Encoding.ASCII.GetBytes(opening.PadRight(pause is null ? FastChunk : 32, 'a'));
            while (true)
            {
                // The client closing the connection ends this loop with an IOException (caught by the server).
                if (chunked)
                {
                    await WriteAsciiAsync(stream, $"{piece.Length:x}\r\n", ct);
                }

                await stream.WriteAsync(piece, ct);
                if (chunked)
                {
                    await WriteAsciiAsync(stream, "\r\n", ct);
                }

                sent(piece.Length);
                piece.AsSpan().Fill((byte)'a');
                if (pause is { } p)
                {
                    await Task.Delay(p, ct);
                }
            }
        }
    }
}
