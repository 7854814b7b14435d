using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>When schedules are due: cron with seconds, time zones and DST, missed occurrences run once, disabled
/// schedules never.</summary>
public sealed class ScheduleTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static readonly string Sr = Guid.NewGuid().ToString();

    private static JobDefinition Job(JobSchedule schedule, DateTimeOffset defined)
        => new("job-1", "nightly", "alpha", [Guid.NewGuid().ToString()], [new TargetRef("beta", Sr)], new ReplicationSettings()) { Schedules = [schedule], Defined = defined };

    private static JobSchedule Cron(string cron, string zone = "UTC", bool enabled = true) => new("schedule-1", cron, zone, enabled);

    [Fact]
    public void Missed_occurrences_give_one_run_for_the_latest_and_nothing_until_the_next()
    {
        var hourly = Cron("0 * * * *");
        var state = new SchedulerState();
        var due = Assert.Single(state.Due([Job(hourly, Noon.AddHours(-5.5))], Noon.AddMinutes(30)));
        Assert.Equal(Noon, due.Due);
        state = state.Apply(due);
        Assert.Empty(state.Due([Job(hourly, Noon.AddHours(-5.5))], Noon.AddMinutes(59)));
        Assert.Equal(Noon.AddHours(1), Assert.Single(state.Due([Job(hourly, Noon)], Noon.AddHours(1))).Due);
    }

    [Fact]
    public void Six_fields_count_seconds_disabled_schedules_never_fire_and_a_job_without_schedule_is_manual()
    {
        Assert.Equal(Noon.AddSeconds(4), ScheduleRules.Due(Cron("*/2 * * * * *"), Noon.AddSeconds(1), Noon.AddSeconds(5)));
        Assert.Null(ScheduleRules.Due(Cron("* * * * *", enabled: false), Noon.AddHours(-1), Noon));
        Assert.Empty(new SchedulerState().Due([Job(new JobSchedule("schedule-1"), Noon)], Noon.AddHours(1)));
    }

    [Fact]
    public void A_time_zone_is_honoured_across_daylight_saving_time()
    {
        // 02:30 does not exist in Paris on 2026-03-29 (clocks jump from 02:00 to 03:00): the run happens at 03:00 local.
        var paris = Cron("30 2 * * *", "Europe/Paris");
        var due = ScheduleRules.Due(paris, new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 29, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), due);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 1, 30, 0, TimeSpan.Zero), ScheduleRules.Next(paris, Noon));
    }

    [Theory]
    [InlineData("61 * * * *", "UTC", "cron")]
    [InlineData("* * *", "UTC", "cron")]
    [InlineData("* * * * *", "Mars/Olympus", "timezone")]
    public void Bad_schedules_are_refused_naming_what_is_wrong(string cron, string zone, string field)
    {
        Assert.StartsWith(field, ScheduleRules.Validate(Cron(cron, zone)));
        var state = new ControlState().Apply(new PoolRegistered(new PoolRegistration("alpha", "https://x", "root", "sealed", null, true)))
            .Apply(new PoolRegistered(new PoolRegistration("beta", "https://y", "root", "sealed", null, true)));
        var (e, reply) = state.Process(new DefineJob(Job(Cron(cron, zone), Noon)));
        Assert.Null(e);
        Assert.StartsWith($"schedule: {field}", Assert.IsType<Refused>(reply).Reason);
    }

    [Fact]
    public void A_job_schedule_is_turned_off_and_on_and_a_manual_or_unknown_job_is_refused()
    {
        var state = new ControlState().Apply(new JobDefined(Job(Cron("* * * * *"), Noon)));
        var (e, _) = state.Process(new EnableJob("job-1", false));
        state = state.Apply(e!);
        Assert.False(state.Jobs["job-1"].Schedules[0].Enabled);
        Assert.Empty(new SchedulerState().Due(state.Jobs.Values, Noon.AddHours(1)));
        state = state.Apply(state.Process(new EnableJob("job-1", true)).Event!);
        Assert.Single(new SchedulerState().Due(state.Jobs.Values, Noon.AddHours(1)));

        Assert.Equal("no job other", Assert.IsType<NotFound>(state.Process(new EnableJob("other", true)).Reply).Reason);
        var manual = new ControlState().Apply(new JobDefined(Job(new JobSchedule("schedule-1"), Noon)));
        Assert.Contains("no schedule", Assert.IsType<Refused>(manual.Process(new EnableJob("job-1", true)).Reply).Reason);
    }
}
