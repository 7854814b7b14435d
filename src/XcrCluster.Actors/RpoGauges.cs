using System.Diagnostics.Metrics;
using XcrCluster.Domain.Control;

namespace XcrCluster.Actors;

/// <summary>Per job and VM, on the node whose scheduler evaluates the RPO (the singleton's): every VM of every job, not only
/// the entities this node hosts. Named apart from <see cref="StateGauges"/>' per-entity <c>xcr_rpo_lag_seconds{vm}</c>, which
/// stays as it was (a second instrument of that name with other labels would clash in the export). The lag is now minus
/// the newest restore point's snapshot time, measured at each scrape (absent for a VM without one); the target is absent
/// for a job without one.</summary>
public static class RpoGauges
{
    private static volatile IReadOnlyList<RpoLag> rows = [];

    private static readonly Instrument[] Instruments =
    [
        ActorMeter.Meter.CreateObservableGauge("xcr_rpo_job_lag_seconds", () => Measure(r => r.NewestPoint is { } point
                ? Math.Max(0, (DateTimeOffset.UtcNow - point).TotalSeconds) : null), "s",
            "seconds since the newest restore point's snapshot, per job and VM (on the node evaluating the RPO)"),
        ActorMeter.Meter.CreateObservableGauge("xcr_rpo_target_seconds", () => Measure(r => r.Target?.Target.TotalSeconds), "s",
            "the RPO target per job and VM: the one set, else twice the shortest cron period"),
        ActorMeter.Meter.CreateObservableGauge("xcr_rpo_violated", () => Measure(r => r.Violation ? 1 : 0),
            description: "1 when the VM's lag is over its job's RPO target (or it has no restore point once the target elapsed)"),
    ];

    /// <summary>The rows of the last evaluation on this node.</summary>
    public static void Report(IReadOnlyList<RpoLag> latest)
    {
        _ = Instruments;
        rows = latest;
    }

    /// <summary>The evaluator stopped here (the singleton moved): another node reports now.</summary>
    public static void Clear() => rows = [];

    private static IEnumerable<Measurement<double>> Measure(Func<RpoLag, double?> value)
        => rows.Select(r => (Row: r, Value: value(r))).Where(r => r.Value is not null)
            .Select(r => new Measurement<double>(r.Value!.Value, ActorMeter.Tag("job", r.Row.JobId), ActorMeter.Tag("vm", r.Row.Vm)));
}
