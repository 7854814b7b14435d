using System.Collections.Immutable;

namespace XcrCluster.Domain.Control;

/// <summary>Persisted by the scheduler: a schedule fired for this occurrence (so a restart neither repeats it nor
/// runs the ones it missed more than once).</summary>
public sealed record ScheduleFired(string ScheduleId, string JobId, DateTimeOffset Due) : ISchedulerEvent;

/// <summary>What the scheduler singleton persists (on the control plane's wire and serializer).</summary>
public interface ISchedulerEvent : IControlMessage
{
}

/// <summary>The last occurrence each schedule fired for. Pure.</summary>
public sealed record SchedulerState
{
    /// <summary>How far back a schedule looks when it has never fired (a job defined long ago, or before schedules
    /// were recorded): one run is due at most, whatever the gap.</summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromDays(7);

    public ImmutableDictionary<string, DateTimeOffset> LastDue { get; init; } = ImmutableDictionary<string, DateTimeOffset>.Empty;

    /// <summary>The schedules due now, one firing each.</summary>
    public IReadOnlyList<ScheduleFired> Due(IEnumerable<JobDefinition> jobs, DateTimeOffset now)
    {
        var due = new List<ScheduleFired>();
        foreach (var job in jobs)
        {
            foreach (var schedule in job.Schedules)
            {
                var since = LastDue.TryGetValue(schedule.Id, out var last) ? last : job.Defined;
                since = since < now - Lookback ? now - Lookback : since;
                if (ScheduleRules.Due(schedule, since, now) is { } occurrence)
                {
                    due.Add(new ScheduleFired(schedule.Id, job.Id, occurrence));
                }
            }
        }

        return due;
    }

    public SchedulerState Apply(ScheduleFired fired) => this with { LastDue = LastDue.SetItem(fired.ScheduleId, fired.Due) };
}
