namespace XcrCluster.Xapi.Transport;

/// <summary>
/// Reads a reply body with a cap, never holding more than the cap: a declared Content-Length over it is refused
/// before a byte is read, and a body without one (chunked or close-delimited) fails as soon as it passes the cap.
/// </summary>
internal static class BoundedBody
{
    private const int FirstBuffer = 16 * 1024;
    private const int LargestChunk = 4 << 20;

    /// <summary>The body's bytes. A declared length is read into one array of that size; a body without one into
    /// chunks that grow to 4 MiB (kept, not copied on growth, so reaching the cap leaves no garbage of twice its
    /// size behind) and are joined once at the end.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpContent content, long cap, Func<string, Exception> tooLarge,
        CancellationToken ct)
    {
        var declared = content.Headers.ContentLength;
        if (declared > cap)
        {
            throw tooLarge($"it announces {declared} bytes, over the {XapiProtocolException.Size(cap)} response cap");
        }

        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        if (declared is { } exact)
        {
            var body = new byte[exact];
            await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false);
            return body;
        }

        var chunks = new List<byte[]>();
        var chunk = new byte[FirstBuffer];
        var filled = 0;
        long total = 0;
        while (true)
        {
            if (filled == chunk.Length)
            {
                chunks.Add(chunk);
                chunk = new byte[Math.Min(chunk.Length * 2, LargestChunk)];
                filled = 0;
            }

            var n = await stream.ReadAsync(chunk.AsMemory(filled), ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            filled += n;
            total += n;
            if (total > cap)
            {
                throw tooLarge($"it is over the {XapiProtocolException.Size(cap)} response cap");
            }
        }

        if (chunks.Count == 0)
        {
            return chunk.AsMemory(0, filled);
        }

        var joined = new byte[total];
        var offset = 0;
        foreach (var full in chunks)
        {
            full.CopyTo(joined, offset);
            offset += full.Length;
        }

        chunk.AsSpan(0, filled).CopyTo(joined.AsSpan(offset));
        return joined;
    }

    /// <summary>Reads and drops a body (a transfer's reply), failing past the cap instead of reading forever.</summary>
    public static async Task DrainAsync(HttpContent content, long cap, Func<string, Exception> tooLarge, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var buffer = new byte[FirstBuffer * 4];
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            total += n;
            if (total > cap)
            {
                throw tooLarge($"it is over the {XapiProtocolException.Size(cap)} response cap");
            }
        }
    }
}
