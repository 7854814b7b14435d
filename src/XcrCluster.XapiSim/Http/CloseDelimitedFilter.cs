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
/// the response head on its way to the socket (after TLS is undone, so both schemes look the same).
/// </summary>
internal sealed class CloseDelimitedFilter
{
    public const string Coding = "identity";

    private const int PipeLimit = 1 << 20;
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
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: PipeLimit, resumeWriterThreshold: PipeLimit / 2, useSynchronizationContext: false));
        var armed = new Armed();
        connections[connection.ConnectionId] = armed;
        connection.Transport = new DuplexPipe(original.Input, pipe.Writer);
        var pump = PumpAsync(pipe.Reader, original.Output, armed);
        try
        {
            await next(connection);
        }
        finally
        {
            // Kestrel has completed its side; what it wrote goes out before the transport closes the socket.
            await pipe.Writer.CompleteAsync();
            await pump;
            connection.Transport = original;
            connections.TryRemove(connection.ConnectionId, out _);
        }
    };

    private static async Task PumpAsync(PipeReader from, PipeWriter to, Armed armed)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await from.ReadAsync();
                var buffer = result.Buffer;
                var consumed = buffer.End;
                if (armed.On)
                {
                    consumed = Strip(buffer, to, armed, result.IsCompleted);
                }
                else
                {
                    foreach (var segment in buffer)
                    {
                        to.Write(segment.Span);
                    }
                }

                from.AdvanceTo(consumed, buffer.End);
                var flushed = await to.FlushAsync();
                if (result.IsCompleted || flushed.IsCompleted || flushed.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
        {
            failure = e;
        }
        finally
        {
            // Kestrel's next write then sees a closed connection instead of waiting on a full pipe.
            await from.CompleteAsync(failure);
        }
    }

    /// <summary>Forwards the buffer without the header line; until the line is seen, holds back a tail that could be
    /// its beginning. Returns how far the buffer was consumed.</summary>
    private static SequencePosition Strip(ReadOnlySequence<byte> buffer, PipeWriter to, Armed armed, bool last)
    {
        var bytes = buffer.ToArray();
        var at = bytes.AsSpan().IndexOf(HeaderLine);
        if (at >= 0)
        {
            // Keep the CRLF that ends the previous header.
            to.Write(bytes.AsSpan(0, at + 2));
            to.Write(bytes.AsSpan(at + HeaderLine.Length));
            armed.On = false;
            return buffer.End;
        }

        var keep = last ? 0 : Math.Min(bytes.Length, HeaderLine.Length - 1);
        to.Write(bytes.AsSpan(0, bytes.Length - keep));
        return buffer.GetPosition(bytes.Length - keep);
    }

    private sealed class Armed
    {
        public volatile bool On;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
