using System.Text;

namespace XcrCluster.Xapi;

/// <summary>
/// XAPI sometimes answers an export with 200 and a body that is itself a whole `HTTP/1.1 500 …` response (xen-api
/// issue 4603; Xen Orchestra's checkVdiExport reads the first 5 bytes for it, docs/xapi.md §6).
/// The first bytes of the body are read here: an embedded error fails the export at once (so a delta that cannot be
/// computed falls back to a full), anything else is handed on unread.
/// </summary>
internal static class ExportBodyCheck
{
    private static readonly byte[] HttpPrefix = "HTTP/"u8.ToArray();

    public static async Task<Stream> CheckAsync(Stream body, string what, CancellationToken ct)
    {
        var head = new byte[HttpPrefix.Length];
        var read = 0;
        while (read < head.Length && await body.ReadAsync(head.AsMemory(read), ct).ConfigureAwait(false) is > 0 and var n)
        {
            read += n;
        }

        if (read == head.Length && head.AsSpan().SequenceEqual(HttpPrefix))
        {
            var line = new byte[120];
            var length = await body.ReadAtLeastAsync(line, line.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            var status = ("HTTP/" + Encoding.ASCII.GetString(line, 0, length)).Split('\r', '\n')[0];
            throw new XapiException("VDI_IO_ERROR", $"{what}: the pool sent an error instead of the disk ({status})");
        }

        return new PrefixedStream(head.AsMemory(0, read), body);
    }

    /// <summary>A few bytes already read, then the rest of the stream.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : Stream
    {
        private ReadOnlyMemory<byte> prefix = prefix;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (prefix.IsEmpty)
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            var n = Math.Min(buffer.Length, prefix.Length);
            prefix[..n].CopyTo(buffer);
            prefix = prefix[n..];
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
            => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
