using System.Diagnostics;

namespace XcrCluster.XapiSim.Http;

/// <summary>What happens once a given number of body bytes crossed: the exception to end the transfer with
/// (after any side effect, such as aborting the connection).</summary>
internal sealed record WireCut(long AfterBytes, Func<long, Exception> Act)
{
    /// <summary>The connection is reset (no clean close) after this many bytes; null when off (zero).</summary>
    public static WireCut? Reset(HttpContext context, long afterBytes) => When(afterBytes, n =>
    {
        context.Abort();
        return new IOException($"connection reset by fault injection after {n} bytes");
    });

    public static WireCut? When(long afterBytes, Func<long, Exception> act) => afterBytes > 0 ? new WireCut(afterBytes, act) : null;

    /// <summary>The cut that comes first.</summary>
    public static WireCut? First(params WireCut?[] cuts) => cuts.OfType<WireCut>().MinBy(c => c.AfterBytes);
}

/// <summary>
/// The wire side of an export (written) or import (read) with the faults tests switch on: a rate limit in
/// bytes/s and a cut after N bytes (reset, clean close, cancellation). Counts what crossed for /sim/stats.
/// </summary>
internal sealed class ShapedStream(Stream inner, long bytesPerSecond, WireCut? cut, Action<long> counted) : Stream
{
    private const int PacedPiece = 64 * 1024;
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public long Transferred { get; private set; }

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => Transferred; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var allowed = await AllowAsync(buffer.Length, ct);
        var n = await inner.ReadAsync(buffer[..allowed], ct);
        Count(n);
        return n;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        while (!buffer.IsEmpty)
        {
            var n = await AllowAsync(buffer.Length, ct);
            await inner.WriteAsync(buffer[..n], ct);
            Count(n);
            buffer = buffer[n..];
        }
    }

    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);

    public override int Read(byte[] buffer, int offset, int count)
        => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count)
        => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>How many of the wanted bytes may cross now: waits to keep the rate, cuts the transfer once
    /// the cut point is reached.</summary>
    private async ValueTask<int> AllowAsync(int wanted, CancellationToken ct)
    {
        if (cut is not null && Transferred >= cut.AfterBytes)
        {
            throw cut.Act(Transferred);
        }

        var n = wanted;
        if (cut is not null)
        {
            n = (int)Math.Min(n, cut.AfterBytes - Transferred);
        }

        if (bytesPerSecond > 0)
        {
            // Small pieces at low rates, so a peer that went away is noticed at the next read or write.
            n = (int)Math.Min(n, Math.Clamp(bytesPerSecond / 8, 1, PacedPiece));
            var due = TimeSpan.FromSeconds((double)(Transferred + n) / bytesPerSecond) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, ct);
            }
        }

        return n;
    }

    private void Count(int n)
    {
        Transferred += n;
        counted(n);
    }
}
