using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// XAPI's export bodies end at connection close, with neither Content-Length nor Transfer-Encoding
/// (export_raw_vdi.ml: `Http.http_200_ok ~keep_alive:false`). Kestrel chunks every HTTP/1.1 body without a
/// length unless a non-chunked Transfer-Encoding is named; then it sends the bytes as they are and closes. So
/// an export names "identity", arms this connection filter, and the filter takes that one header line out of
/// the response head on its way to the socket (before TLS, so both schemes look the same).
/// </summary>
internal sealed class CloseDelimitedFilter
{
    public const string Coding = "identity";

    private static readonly byte[] HeaderLine = "\r\nTransfer-Encoding: identity\r\n"u8.ToArray();
    private readonly ConcurrentDictionary<string, Armed> connections = new(StringComparer.Ordinal);

    /// <summary>The next "Transfer-Encoding: identity" header going out on this request's connection is removed.</summary>
    public void Arm(HttpContext context)
    {
        if (connections.TryGetValue(context.Connection.Id, out var armed))
        {
            armed.On = true;
        }
    }

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var original = connection.Transport;
        var armed = new Armed();
        connections[connection.ConnectionId] = armed;
        connection.Transport = new DuplexPipe(original.Input, new HeadFilter(original.Output, armed));
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = original;
            connections.TryRemove(connection.ConnectionId, out _);
        }
    };

    private sealed class Armed
    {
        public volatile bool On;
    }

    /// <summary>Kestrel's output writer for the connection: a pass-through, except while armed, when what Kestrel
    /// writes collects here and goes out at its next flush without the header line. Nothing is held back between
    /// flushes, so an abort loses nothing Kestrel had flushed.</summary>
    private sealed class HeadFilter(PipeWriter inner, Armed armed) : PipeWriter
    {
        private readonly ArrayBufferWriter<byte> head = new();

        public override Memory<byte> GetMemory(int sizeHint = 0) => armed.On ? head.GetMemory(sizeHint) : inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => armed.On ? head.GetSpan(sizeHint) : inner.GetSpan(sizeHint);

        public override void Advance(int bytes)
        {
            if (armed.On)
            {
                head.Advance(bytes);
            }
            else
            {
                inner.Advance(bytes);
            }
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken ct = default)
        {
            Release();
            return inner.FlushAsync(ct);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        // Kestrel and System.Text.Json ask these to decide when to flush.
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes + head.WrittenCount;

        public override void Complete(Exception? exception = null)
        {
            Release();
            inner.Complete(exception);
        }

        /// <summary>Passes on what collected while armed, without the header line (which disarms).</summary>
        private void Release()
        {
            if (head.WrittenCount == 0)
            {
                return;
            }

            var bytes = head.WrittenSpan;
            var at = bytes.IndexOf(HeaderLine);
            if (at >= 0)
            {
                // Keep the CRLF that ends the previous header.
                inner.Write(bytes[..(at + 2)]);
                inner.Write(bytes[(at + HeaderLine.Length)..]);
                armed.On = false;
            }
            else
            {
                inner.Write(bytes);
            }

            head.ResetWrittenCount();
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
