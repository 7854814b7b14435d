namespace XcrCluster.Vhd;

/// <summary>A stream read strictly forwards, tracking the absolute position for error messages.</summary>
internal sealed class ForwardInput(Stream stream)
{
    private const int SkipChunk = 64 * 1024;
    private byte[]? scratch;

    public long Position { get; private set; }

    public async ValueTask ReadExactlyAsync(Memory<byte> buffer, string field, CancellationToken ct)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[read..], ct).ConfigureAwait(false);
            if (n == 0)
            {
                throw new VhdFormatException(field, Position + read, $"the stream ends here, {buffer.Length - read} more bytes were expected");
            }

            read += n;
        }

        Position += buffer.Length;
    }

    public async ValueTask SkipToAsync(long target, string field, CancellationToken ct)
    {
        if (target < Position)
        {
            throw new VhdFormatException(field, target, $"lies before the current position {Position} of a forward-only stream (out of order)");
        }

        if (stream.CanSeek)
        {
            if (target > stream.Length)
            {
                throw new VhdFormatException(field, stream.Length, $"the stream ends here, before byte {target}");
            }

            stream.Seek(target - Position, SeekOrigin.Current);
            Position = target;
            return;
        }

        scratch ??= new byte[SkipChunk];
        while (Position < target)
        {
            var n = (int)Math.Min(scratch.Length, target - Position);
            await ReadExactlyAsync(scratch.AsMemory(0, n), field, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Reads to the end of the stream and returns its last <paramref name="tail"/>.Length bytes' count placed in tail.</summary>
    public async ValueTask ReadTailAsync(byte[] tail, string field, CancellationToken ct)
    {
        if (stream.CanSeek && stream.Length - Position >= tail.Length)
        {
            await SkipToAsync(stream.Length - tail.Length, field, ct).ConfigureAwait(false);
            await ReadExactlyAsync(tail, field, ct).ConfigureAwait(false);
            return;
        }

        scratch ??= new byte[SkipChunk];
        var filled = 0;
        while (true)
        {
            var n = await stream.ReadAsync(scratch, ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            Position += n;
            if (n >= tail.Length)
            {
                scratch.AsSpan(n - tail.Length, tail.Length).CopyTo(tail);
                filled = tail.Length;
            }
            else
            {
                var keep = Math.Min(filled, tail.Length - n);
                tail.AsSpan(filled - keep, keep).CopyTo(tail);
                scratch.AsSpan(0, n).CopyTo(tail.AsSpan(keep));
                filled = keep + n;
            }
        }

        if (filled < tail.Length)
        {
            throw new VhdFormatException(field, Position, $"the stream ends {filled} bytes after the last block; the {tail.Length}-byte footer is missing");
        }
    }
}
