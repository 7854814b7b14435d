namespace XcrCluster.Domain.Control;

/// <summary>A job's RPO target and where it comes from: "rpo" (a schedule's or the job's own, kept by the scheduler running
/// VMs as often as needed through <paramref name="Schedule"/>) or "schedule" (no target set: twice the shortest cron period,
/// reported but not acted upon).</summary>
public sealed record RpoTarget(TimeSpan Target, string From, JobSchedule? Schedule);

/// <summary>RPO targets: validation, parsing, which one a job has, and when a VM violates it. Pure.</summary>
public static class RpoRules
{
    /// <summary>The smallest target: the scheduler looks every second and a run takes seconds at least.</summary>
    public static readonly TimeSpan Minimum = TimeSpan.FromSeconds(10);

    public const string FromRpo = "rpo";

    public const string FromSchedule = "schedule";

    /// <summary>Why a target is refused, or null (null: no target).</summary>
    public static string? Invalid(TimeSpan? rpo) => rpo is { } r && r < Minimum
        ? $"at least {Minimum.TotalSeconds:F0} s (got {r.TotalSeconds:0.###} s)" : null;

    /// <summary>A target as `xcr ... --rpo` and name=value changes take it: a duration (15m, 30s); empty or 0: none.</summary>
    public static TimeSpan? Parse(string text) => text is "" or "0" ? null
        : Units.ParseDuration(text) ?? throw new FormatException($"{Units.DurationHint} (at least 10s), or empty for none");

    /// <summary>The job's target now: the smallest RPO of its enabled schedules, the job's own through its first schedule
    /// when that one is enabled and sets none; else twice the shortest period of its enabled crons; else none.</summary>
    public static RpoTarget? Target(JobDefinition job, DateTimeOffset now)
    {
        var set = job.Schedules.Where(s => s.Enabled)
            .Select(s => (Schedule: s, Rpo: s.Rpo ?? (s.Id == job.ScheduleId ? job.Rpo : null)))
            .Where(s => s.Rpo is not null).OrderBy(s => s.Rpo).FirstOrDefault();
        if (set.Rpo is { } rpo)
        {
            return new RpoTarget(rpo, FromRpo, set.Schedule);
        }

        return ScheduleRules.Period(job, now) is { } period ? new RpoTarget(2 * period, FromSchedule, null) : null;
    }

    /// <summary>Whether a VM is late: its lag (now minus its newest restore point's snapshot time) is over the target, or it
    /// has no restore point though the target has elapsed since the job was defined.</summary>
    public static bool Violated(TimeSpan target, DateTimeOffset? newestPoint, DateTimeOffset defined, DateTimeOffset now)
        => newestPoint is { } point ? now - point > target : now - defined > target;
}
