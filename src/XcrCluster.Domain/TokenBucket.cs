namespace XcrCluster.Domain;

/// <summary>
/// maxExportRate: one bucket per run, shared by all its disks (as Xen Orchestra's Throttle). Holds at most one
/// second of tokens; a take larger than what is there runs into debt and is told how long to wait, so the
/// long-run rate is exact whatever the block size. Pure: the caller passes the time.
/// </summary>
public sealed class TokenBucket(long bytesPerSecond)
{
    private readonly object gate = new();
    private double tokens = bytesPerSecond;
    private TimeSpan last;

    public long BytesPerSecond { get; } = bytesPerSecond > 0 ? bytesPerSecond : throw new ArgumentOutOfRangeException(nameof(bytesPerSecond), "must be positive");

    /// <summary>Takes <paramref name="bytes"/> at time <paramref name="now"/> (monotonic); returns how long to wait before sending them.</summary>
    public TimeSpan Take(long bytes, TimeSpan now)
    {
        lock (gate)
        {
            tokens = Math.Min(BytesPerSecond, tokens + (now - last).TotalSeconds * BytesPerSecond);
            last = now;
            tokens -= bytes;
            return tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-tokens / BytesPerSecond);
        }
    }
}
