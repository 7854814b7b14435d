using Cronos;

namespace XcrCluster.Domain.Control;

/// <summary>When a schedule is due (Cronos: time zones, DST; 5 fields, or 6 with seconds). Pure: the time is given.</summary>
public static class ScheduleRules
{
    public static string? Validate(JobSchedule schedule)
    {
        if (schedule.Cron is null)
        {
            return null;
        }

        try
        {
            _ = Parse(schedule.Cron);
            _ = TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone);
            return null;
        }
        catch (CronFormatException e)
        {
            return $"cron \"{schedule.Cron}\": {e.Message}";
        }
        catch (TimeZoneNotFoundException)
        {
            return $"timezone \"{schedule.TimeZone}\": unknown (an IANA name such as Europe/Paris)";
        }
    }

    /// <summary>The latest occurrence after <paramref name="since"/> and at or before <paramref name="now"/>, or null:
    /// however many were missed (the cluster was down), one run is due, not one per missed occurrence.</summary>
    public static DateTimeOffset? Due(JobSchedule schedule, DateTimeOffset since, DateTimeOffset now)
    {
        if (!schedule.Enabled || schedule.Cron is null || now <= since)
        {
            return null;
        }

        var zone = TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone);
        return Parse(schedule.Cron).GetOccurrences(since, now, zone, fromInclusive: false, toInclusive: true).Cast<DateTimeOffset?>().LastOrDefault();
    }

    /// <summary>The next occurrence after <paramref name="now"/> (for display and timers).</summary>
    public static DateTimeOffset? Next(JobSchedule schedule, DateTimeOffset now)
        => schedule is { Enabled: true, Cron: not null } ? Parse(schedule.Cron).GetNextOccurrence(now, TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone)) : null;

    /// <summary>The time between two runs around now (for RPO: a VM is late when its last success is older than twice this).</summary>
    public static TimeSpan? Period(JobSchedule schedule, DateTimeOffset now)
        => Next(schedule with { Enabled = true }, now) is { } next && Next(schedule with { Enabled = true }, next) is { } after ? after - next : null;

    /// <summary>The shortest period of the job's enabled schedules, null when none runs by itself.</summary>
    public static TimeSpan? Period(JobDefinition job, DateTimeOffset now)
        => job.Schedules.Where(s => s is { Enabled: true, Cron: not null }).Select(s => Period(s, now)).Where(p => p is not null).Min();

    private static CronExpression Parse(string cron)
        => CronExpression.Parse(cron, cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
}
