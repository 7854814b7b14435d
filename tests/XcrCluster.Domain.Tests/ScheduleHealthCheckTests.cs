using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>The health check's settings per schedule (Xen Orchestra keeps them there): a schedule's value overrides the
/// job's, "none" turns the check off for one schedule, and `xcr job schedule set` changes them all or none.</summary>
public sealed class ScheduleHealthCheckTests
{
    private static readonly string Sr = Guid.NewGuid().ToString();
    private static readonly string OtherSr = Guid.NewGuid().ToString();

    [Fact]
    public void A_schedules_health_check_overrides_the_jobs_and_none_turns_it_off()
    {
        var job = new ReplicationSettings
        {
            HealthCheckSr = Sr, HealthCheckVmsWithTags = ["web"], HealthCheckTimeout = TimeSpan.FromMinutes(3),
        };
        var inherited = new JobSchedule("a").Apply(job);
        Assert.Equal((Sr, "web", TimeSpan.FromMinutes(3)), (inherited.HealthCheckSr, inherited.HealthCheckVmsWithTags!.Single(),
            inherited.HealthCheckTimeout));
        var own = new JobSchedule("b")
        {
            HealthCheckSr = OtherSr, HealthCheckVmsWithTags = [], HealthCheckTimeout = TimeSpan.FromSeconds(30),
        }.Apply(job);
        Assert.Equal((OtherSr, 0, TimeSpan.FromSeconds(30)),
            (own.HealthCheckSr, own.HealthCheckVmsWithTags!.Count, own.HealthCheckTimeout));
        Assert.Null(new JobSchedule("c") { HealthCheckSr = ScheduleChanges.HealthCheckSr("none") }.Apply(job).HealthCheckSr);
    }

    [Fact]
    public void A_schedule_is_changed_by_name_all_or_none_and_bad_values_are_refused()
    {
        var pool = new PoolRegistration("alpha", "https://192.0.2.1", "root", "x", null, false);
        var state = new ControlState().Apply(new PoolRegistered(pool));
        var job = new JobDefinition("job-1", "nightly", "alpha", [Guid.NewGuid().ToString()], [new TargetRef("alpha", Sr)],
            new ReplicationSettings()) { Schedules = [new JobSchedule("s-1")] };
        state = state.Apply(state.Process(new DefineJob(job)).Event!);

        var (changed, reply) = state.Process(new ChangeSchedule("job-1", "s-1", new Dictionary<string, string>
        {
            ["healthCheckSr"] = Sr, ["healthCheckVmsWithTags"] = "web, db", ["healthCheckTimeout"] = "90s",
        }));
        Assert.IsType<Done>(reply);
        var schedule = state.Apply(changed!).Jobs["job-1"].Schedules.Single();
        Assert.Equal((Sr, "web,db", TimeSpan.FromSeconds(90)),
            (schedule.HealthCheckSr, string.Join(",", schedule.HealthCheckVmsWithTags!), schedule.HealthCheckTimeout));

        foreach (var (name, value, error) in new[]
        {
            ("healthCheckTimeout", "2d", "healthCheckTimeout must be positive and at most 1 day"),
            ("healthCheckTimeout", "soon", "is not valid"),
            ("healthCheckSr", "pool-sr", "is not an SR uuid"),
            ("nope", "1", "not a schedule setting"),
        })
        {
            var (none, refusal) = state.Process(new ChangeSchedule("job-1", "s-1", new Dictionary<string, string>
            {
                ["copyRetention"] = "4", [name] = value,
            }));
            Assert.Null(none);
            Assert.Contains(error, Assert.IsType<Refused>(refusal).Reason);
        }

        var (jobSet, _) = JobChanges.Apply(job, new Dictionary<string, string>
        {
            ["healthCheckTimeout"] = "5m", ["healthCheckVmsWithTags"] = "web",
        });
        Assert.Equal((TimeSpan.FromMinutes(5), "web"),
            (jobSet!.Settings.HealthCheckTimeout, jobSet.Settings.HealthCheckVmsWithTags!.Single()));
        var unknown = new ChangeSchedule("job-1", "s-9", new Dictionary<string, string> { ["name"] = "x" });
        Assert.IsType<NotFound>(state.Process(unknown).Reply);
        var zero = new AddSchedule("job-1", new JobSchedule("s-2") { HealthCheckTimeout = TimeSpan.Zero });
        Assert.Contains("healthCheckTimeout must be positive", Assert.IsType<Refused>(state.Process(zero).Reply).Reason);
    }
}
