using System.Net;
using System.Net.Http.Headers;

namespace XcrCluster.Xapi.Transport;

/// <summary>
/// A request body of a known length that a delegate writes straight onto the HTTP request stream: the caller's
/// buffers go to the socket as they are (no StreamContent buffer in between). Sent once: a second serialization (the
/// handler retrying on a fresh connection) is refused, as StreamContent refuses a stream it already read.
/// </summary>
internal sealed class PushContent : HttpContent
{
    private readonly Func<Stream, CancellationToken, Task> write;
    private readonly long length;
    private int sent;

    public PushContent(Func<Stream, CancellationToken, Task> write, long length)
    {
        this.write = write;
        this.length = length;
        Headers.ContentLength = length;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        => Interlocked.Exchange(ref sent, 1) == 0
            ? write(stream, cancellationToken)
            : throw new InvalidOperationException("this request body was already sent and cannot be written again");

    protected override bool TryComputeLength(out long length)
    {
        length = this.length;
        return true;
    }
}

/// <summary>A write-only stream forwarding to one set later: lets a stall guard exist (and watch the connection
/// being opened) before the HTTP stack hands over its request stream. Adds no copy.</summary>
internal sealed class LateStream : Stream
{
    private Stream? target;

    public Stream Target { set => target = value; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => Inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => Inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => Inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);

    public override void Flush() => Inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private Stream Inner => target ?? throw new InvalidOperationException("the request stream is not open yet");
}
