using System.Diagnostics.Metrics;

namespace XcrCluster.Replication;

/// <summary>The disk transfers going on in this process (an export fanned out to its targets), per source pool: a
/// System.Diagnostics.Metrics instrument; the node exports every meter named XcrCluster.* on /metrics.</summary>
public static class TransferMetrics
{
    /// <summary>The meter's only instrument (meter XcrCluster.Replication, never disposed: it lives as long as the process).</summary>
    private static readonly UpDownCounter<int> InFlight = new Meter("XcrCluster.Replication").CreateUpDownCounter<int>(
        "xcr_transfers_in_flight", description: "disk transfers going on in this process (one export to every target), per source pool");

    /// <summary>Counts a transfer until the result is disposed.</summary>
    public static IDisposable Track(string sourcePool)
    {
        var pool = new KeyValuePair<string, object?>("source_pool", sourcePool);
        InFlight.Add(1, pool);
        return new Untrack(pool);
    }

    private sealed class Untrack(KeyValuePair<string, object?> pool) : IDisposable
    {
        private int done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0)
            {
                InFlight.Add(-1, pool);
            }
        }
    }
}
