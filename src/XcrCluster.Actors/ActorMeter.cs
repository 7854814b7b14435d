using System.Diagnostics.Metrics;

namespace XcrCluster.Actors;

/// <summary>The meter of the actors' instruments (<see cref="RunMetrics"/>, <see cref="StateGauges"/>, journal failures):
/// System.Diagnostics.Metrics, so this project needs no exporter; the node exports every meter named XcrCluster.* on /metrics.</summary>
internal static class ActorMeter
{
    public static readonly Meter Meter = new("XcrCluster.Actors");

    /// <summary>Events a persistent actor could not write (the journal failed or rejected them), per actor class and kind.</summary>
    public static readonly Counter<long> JournalWriteFailures = Meter.CreateCounter<long>("xcr_journal_write_failures_total",
        description: "events the journal failed to write (failure) or rejected (rejected), per persistent actor class");

    public static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);
}
