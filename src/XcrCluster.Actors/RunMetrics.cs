using System.Diagnostics.Metrics;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>The runs' instruments, recorded by the executor that orchestrates each VM's run (on a control node) when the
/// run ends: bytes sent per source pool and target SR, outcomes, durations (every attempt, from start to end).</summary>
public static class RunMetrics
{
    /// <summary>From a second to a day: a run of a small delta to a full of a large VM over a WAN.</summary>
    private static readonly double[] DurationBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400];

    private static readonly Counter<long> Bytes = ActorMeter.Meter.CreateCounter<long>("xcr_replicated_bytes_total", "By",
        "bytes runs sent to target SRs (a run's last attempt), per source pool, target pool and target SR");

    private static readonly Counter<long> Outcomes = ActorMeter.Meter.CreateCounter<long>("xcr_runs_total",
        description: "VM runs ended, per outcome (success, failure, skipped, interrupted)");

    private static readonly Histogram<double> Durations = ActorMeter.Meter.CreateHistogram("xcr_run_duration_seconds", "s",
        "how long VM runs took from start to end, retries included, per outcome", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    /// <summary>A VM's run ended with <paramref name="result"/> after <paramref name="duration"/>.</summary>
    public static void Ended(ReplicateVm request, RunResult result, TimeSpan duration)
    {
        var outcome = ActorMeter.Tag("outcome", result.Status.Name());
        Outcomes.Add(1, outcome);
        Durations.Record(duration.TotalSeconds, outcome);
        foreach (var target in result.Targets.Where(t => t.BytesSent > 0))
        {
            var pool = request.Targets.FirstOrDefault(t => t.SrUuid == target.SrUuid)?.Pool ?? "";
            Bytes.Add(target.BytesSent, ActorMeter.Tag("source_pool", request.SourcePool), ActorMeter.Tag("target_pool", pool),
                ActorMeter.Tag("target_sr", target.SrUuid));
        }
    }

    /// <summary>A VM's run recorded as ended by its entity, not by an executor (interrupted with its node, or a held request
    /// dropped): counted by its outcome, without a duration.</summary>
    public static void EndedUnrun(RunStatus status) => Outcomes.Add(1, ActorMeter.Tag("outcome", status.Name()));

    /// <summary>The bytes a run's targets got (its last attempt).</summary>
    public static long BytesOf(RunResult result) => result.Targets.Sum(t => t.BytesSent);
}
