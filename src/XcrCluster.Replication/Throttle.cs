using XcrCluster.Domain;

namespace XcrCluster.Replication;

/// <summary>A run's export rate limit over a <see cref="TokenBucket"/>: waits as long as the bucket says.</summary>
public sealed class Throttle(long bytesPerSecond, TimeProvider? time = null)
{
    private readonly TokenBucket bucket = new(bytesPerSecond);
    private readonly TimeProvider clock = time ?? TimeProvider.System;
    private readonly long origin = (time ?? TimeProvider.System).GetTimestamp();

    /// <summary>No limit when the setting is 0.</summary>
    public static Throttle? For(long maxExportRate, TimeProvider? time = null) => maxExportRate > 0 ? new Throttle(maxExportRate, time) : null;

    public async Task TakeAsync(long bytes, CancellationToken ct)
    {
        var wait = bucket.Take(bytes, clock.GetElapsedTime(origin));
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, ct).ConfigureAwait(false);
        }
    }
}
