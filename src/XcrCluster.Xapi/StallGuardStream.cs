namespace XcrCluster.Xapi;

/// <summary>
/// Wraps one side of a transfer: counts bytes for progress, and a watchdog cancels <see cref="Token"/> when
/// nothing has moved for the stall timeout, so a quiet peer fails the transfer with a clear
/// <see cref="TimeoutException"/> instead of hanging — whether we were reading, writing, or the HTTP stack
/// was blocked sending what we gave it. Adds no copy.
/// </summary>
public sealed class StallGuardStream : Stream
{
    private readonly Stream inner;
    private readonly TimeSpan stallTimeout;
    private readonly Action<long>? progress;
    private readonly Action? onDispose;
    private readonly string what;
    private readonly bool leaveOpen;
    private readonly CancellationTokenSource stalled = new();
    private readonly Timer watchdog;
    private long lastProgressTicks = Environment.TickCount64;
    private long bytes;

    /// <param name="leaveOpen">Leave <paramref name="inner"/> open on dispose (a caller's upload source).</param>
    public StallGuardStream(Stream inner, TimeSpan stallTimeout, string what, Action<long>? progress = null, Action? onDispose = null, bool leaveOpen = false)
    {
        this.inner = inner;
        this.leaveOpen = leaveOpen;
        this.stallTimeout = stallTimeout;
        this.what = what;
        this.progress = progress;
        this.onDispose = onDispose;
        var period = TimeSpan.FromMilliseconds(Math.Clamp(stallTimeout.TotalMilliseconds / 4, 50, 1000));
        watchdog = new Timer(_ => Check(), null, period, period);
    }

    /// <summary>Cancelled when the transfer stalls; pass it to whatever drives the transfer.</summary>
    public CancellationToken Token => stalled.Token;

    public bool HasStalled => stalled.IsCancellationRequested;

    public long BytesTransferred => Interlocked.Read(ref bytes);

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => inner.Length;

    public override long Position { get => BytesTransferred; set => throw new NotSupportedException(); }

    /// <summary>The exception to raise when an operation was cancelled by the watchdog.</summary>
    public TimeoutException StallError() => new($"{what}: no data moved for {stallTimeout.TotalSeconds:F0} s (after {BytesTransferred} bytes)");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stalled.Token);
        try
        {
            var n = await inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
            Count(n);
            return n;
        }
        catch (OperationCanceledException) when (HasStalled && !cancellationToken.IsCancellationRequested)
        {
            throw StallError();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stalled.Token);
        try
        {
            await inner.WriteAsync(buffer, linked.Token).ConfigureAwait(false);
            Count(buffer.Length);
        }
        catch (OperationCanceledException) when (HasStalled && !cancellationToken.IsCancellationRequested)
        {
            throw StallError();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            watchdog.Dispose();
            if (!leaveOpen)
            {
                inner.Dispose();
            }

            onDispose?.Invoke();
            stalled.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await watchdog.DisposeAsync().ConfigureAwait(false);
        if (!leaveOpen)
        {
            await inner.DisposeAsync().ConfigureAwait(false);
        }

        onDispose?.Invoke();
        stalled.Dispose();
        GC.SuppressFinalize(this);
    }

    private void Count(int n)
    {
        if (n > 0)
        {
            Interlocked.Exchange(ref lastProgressTicks, Environment.TickCount64);
            // Added before the call: `progress?.Invoke(...)` would skip evaluating its argument when null.
            var total = Interlocked.Add(ref bytes, n);
            progress?.Invoke(total);
        }
    }

    private void Check()
    {
        if (Environment.TickCount64 - Interlocked.Read(ref lastProgressTicks) > stallTimeout.TotalMilliseconds)
        {
            try
            {
                stalled.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
