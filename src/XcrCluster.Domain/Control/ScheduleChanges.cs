using System.Globalization;

namespace XcrCluster.Domain.Control;

/// <summary>`xcr job schedule set JOB SCHEDULE name=value...`: a schedule's settings by name, values as text, applied all
/// or none. An empty value gives the setting back to the job ("healthCheckSr=none": no health check in this schedule,
/// whatever the job says). Pure.</summary>
public static class ScheduleChanges
{
    public static readonly IReadOnlyList<string> Names =
    [
        "name", "cron", "timeZone", "copyRetention", "fullInterval", "forceFull", "healthCheckSr", "healthCheckVmsWithTags",
        "healthCheckTimeout", "rpo",
    ];

    /// <summary>The job with the schedule changed, or the first bad change named.</summary>
    public static (JobDefinition? Job, string? Error) Apply(JobDefinition job, string scheduleId,
        IReadOnlyDictionary<string, string> changes)
    {
        if (changes.Count == 0)
        {
            return (null, $"nothing to change: give one or more of {string.Join(", ", Names)} as name=value");
        }

        var schedule = job.Schedule(scheduleId) ?? throw new ArgumentException($"no schedule {scheduleId}", nameof(scheduleId));
        foreach (var (name, value) in changes)
        {
            try
            {
                schedule = Change(schedule, name, value);
            }
            catch (KeyNotFoundException)
            {
                return (null, $"{name}: not a schedule setting (one of {string.Join(", ", Names)})");
            }
            catch (FormatException e)
            {
                return (null, $"{name}: \"{value}\" is not valid: {e.Message}");
            }
        }

        return (job with { Schedules = [.. job.Schedules.Select(s => s.Id == scheduleId ? schedule : s)] }, null);
    }

    /// <summary>healthCheckSr as a schedule takes it: empty = the job's, "none" = no health check in this schedule.</summary>
    public static string? HealthCheckSr(string? text) => text switch
    {
        null or "" => null,
        "none" => "",
        _ => text,
    };

    /// <summary>A health-check timeout as text (empty = the job's).</summary>
    public static TimeSpan? Timeout(string? text) => text is null or "" ? null
        : Units.ParseDuration(text) ?? throw new FormatException(Units.DurationHint);

    /// <summary>Comma-separated tags (empty = the job's).</summary>
    public static IReadOnlyList<string>? Tags(string? text) => text is null or "" ? null
        : [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static JobSchedule Change(JobSchedule s, string name, string value)
        => (Names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) ?? throw new KeyNotFoundException())
            switch
            {
                "name" => s with { Name = value },
                "cron" => s with { Cron = value.Length == 0 ? null : value },
                "timeZone" => s with { TimeZone = value.Length == 0 ? "UTC" : value },
                "copyRetention" => s with { CopyRetention = value.Length == 0 ? null : Int(value) },
                "fullInterval" => s with { FullInterval = value.Length == 0 ? null : Int(value) },
                "forceFull" => s with { ForceFull = bool.TryParse(value, out var b) ? b : throw new FormatException("true or false") },
                "healthCheckSr" => s with { HealthCheckSr = HealthCheckSr(value) },
                "healthCheckVmsWithTags" => s with { HealthCheckVmsWithTags = Tags(value) },
                "healthCheckTimeout" => s with { HealthCheckTimeout = Timeout(value) },
                "rpo" => s with { Rpo = RpoRules.Parse(value) },
                _ => throw new KeyNotFoundException(),
            };

    private static int Int(string value) => int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
        : throw new FormatException("a whole number");
}
