using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>A job's life in the control plane's pure state: settings changed by name (all or none), schedules added,
/// removed and switched, deletion, the runs and VMs it remembers for orphans.</summary>
public sealed class JobLifecycleTests
{
    private static readonly string Vm = Guid.NewGuid().ToString();
    private static readonly string OtherVm = Guid.NewGuid().ToString();
    private static readonly string Sr = Guid.NewGuid().ToString();

    private static ControlState Defined()
    {
        var state = new ControlState();
        foreach (var pool in new[] { "alpha", "beta" })
        {
            state = state.Apply(new PoolRegistered(new PoolRegistration(pool, "https://192.0.2.1", "root", "sealed", null, false)));
        }

        var job = new JobDefinition("job-1", "nightly", "alpha", [Vm], [new TargetRef("beta", Sr)], new ReplicationSettings()) { Schedules = [new JobSchedule("s-1", "0 * * * *")] };
        return Step(state, new DefineJob(job));
    }

    private static ControlState Step(ControlState state, IControlRequest command)
    {
        var (e, reply) = state.Process(command);
        Assert.True(e is not null, $"{command} was refused: {reply}");
        return state.Apply(e);
    }

    private static string Refusal(ControlState state, IControlRequest command)
    {
        var (e, reply) = state.Process(command);
        Assert.Null(e);
        return reply switch { Refused r => r.Reason, NotFound n => "404 " + n.Reason, _ => throw new Xunit.Sdk.XunitException($"not refused: {reply}") };
    }

    [Fact]
    public void Settings_change_by_name_all_or_none_and_a_bad_one_is_named()
    {
        var state = Step(Defined(), new ChangeJob("job-1", new Dictionary<string, string>
        {
            ["copyRetention"] = "3", ["maxExportRate"] = "100MiB", ["timeout"] = "2h", ["retries"] = "2", ["deleteFirst"] = "true", ["vms"] = $"{Vm},{OtherVm}",
            ["networkMapping"] = $"{Guid.Empty}={Sr}", ["name"] = "hourly",
        }));
        var job = state.Jobs["job-1"];
        Assert.Equal((3, 100L << 20, TimeSpan.FromHours(2), 2, true), (job.Settings.CopyRetention, job.Settings.MaxExportRate, job.Settings.Timeout!.Value, job.Settings.Retries, job.Settings.DeleteFirst));
        Assert.Equal([Vm, OtherVm], job.Vms);
        Assert.Equal(Sr, job.Settings.NetworkMapping![Guid.Empty.ToString()]);
        Assert.Equal("hourly", job.Name);

        Assert.StartsWith("copyRetention: \"many\" is not valid", Refusal(state, new ChangeJob("job-1", new Dictionary<string, string> { ["retries"] = "1", ["copyRetention"] = "many" })));
        Assert.Equal(2, state.Jobs["job-1"].Settings.Retries); // nothing of a refused change is applied
        Assert.StartsWith("settings: copyRetention must be at least 1", Refusal(state, new ChangeJob("job-1", new Dictionary<string, string> { ["copyRetention"] = "0" })));
        Assert.StartsWith("colour: not a job setting", Refusal(state, new ChangeJob("job-1", new Dictionary<string, string> { ["colour"] = "blue" })));
        Assert.StartsWith("targets: unknown pool \"gamma\"", Refusal(state, new ChangeJob("job-1", new Dictionary<string, string> { ["srs"] = $"gamma:{Sr}" })));
        Assert.StartsWith("settings: healthCheckSr", Refusal(state, new ChangeJob("job-1", new Dictionary<string, string> { ["healthCheckSr"] = "nope" })));
        Assert.StartsWith("404 no job", Refusal(state, new ChangeJob("other", new Dictionary<string, string> { ["retries"] = "1" })));
        Assert.StartsWith("nothing to change", Refusal(state, new ChangeJob("job-1", new Dictionary<string, string>())));
    }

    [Fact]
    public void Schedules_are_added_switched_and_removed_but_a_job_keeps_one()
    {
        var state = Step(Defined(), new AddSchedule("job-1", new JobSchedule("s-2", "*/5 * * * *") { CopyRetention = 7, ForceFull = true }));
        Assert.Equal(["s-1", "s-2"], state.Jobs["job-1"].Schedules.Select(s => s.Id));
        var settings = state.Jobs["job-1"].Schedule("s-2")!.Apply(state.Jobs["job-1"].Settings);
        Assert.Equal((7, 1), (settings.CopyRetention, settings.FullInterval)); // force full: every run of it is a full
        Assert.Equal(TimeSpan.FromMinutes(5), ScheduleRules.Period(state.Jobs["job-1"], DateTimeOffset.UtcNow)); // RPO follows the tightest

        state = Step(state, new EnableSchedule("job-1", "s-2", false));
        Assert.False(state.Jobs["job-1"].Schedule("s-2")!.Enabled);
        Assert.True(state.Jobs["job-1"].Schedule("s-1")!.Enabled);
        Assert.Equal(TimeSpan.FromHours(1), ScheduleRules.Period(state.Jobs["job-1"], DateTimeOffset.UtcNow));
        Assert.StartsWith("schedule: cron", Refusal(state, new AddSchedule("job-1", new JobSchedule("s-3", "every day"))));
        Assert.StartsWith("schedule s-2 exists", Refusal(state, new AddSchedule("job-1", new JobSchedule("s-2"))));
        Assert.StartsWith("404 no schedule", Refusal(state, new RemoveSchedule("job-1", "s-9")));

        state = Step(state, new RemoveSchedule("job-1", "s-1"));
        Assert.Equal("s-2", state.Jobs["job-1"].ScheduleId);
        Assert.StartsWith("schedule: a job keeps at least one", Refusal(state, new RemoveSchedule("job-1", "s-2")));
    }

    [Fact]
    public void A_deleted_job_leaves_its_vms_known_until_forgotten_and_runs_stay_findable()
    {
        var state = Step(Defined(), new RecordRun(new RunLaunch("run-1", "job-1", "s-1", [Vm], "manual", DateTimeOffset.UnixEpoch)));
        Assert.StartsWith("vm: ", Refusal(state, new ForgetVm(Vm)));
        state = Step(state, new DeleteJob("job-1"));
        Assert.Empty(state.Jobs);
        Assert.StartsWith("404 no job", Refusal(state, new DeleteJob("job-1")));
        var known = Assert.IsType<Known>(state.Process(new GetKnown()).Reply);
        Assert.Equal([Vm], known.Vms);
        Assert.Equal("run-1", Assert.Single(known.Runs).RunId);

        state = Step(state, new ForgetVm(Vm));
        Assert.Empty(state.KnownVms);
    }

    [Fact]
    public void A_replica_is_covered_while_its_vm_and_sr_stay_in_a_job_and_a_smart_job_covers_what_its_runs_picked()
    {
        var state = Defined();
        Assert.Equal(["job-1"], JobCoverage.Covering(state.Jobs.Values, state.Runs, Vm, Sr).Select(j => j.Id));
        Assert.Empty(JobCoverage.Covering(state.Jobs.Values, state.Runs, Vm, Guid.NewGuid().ToString())); // another SR

        var smart = new JobDefinition("job-2", "halted", "alpha", [], [new TargetRef("beta", Sr)], new ReplicationSettings())
        {
            Schedules = [new JobSchedule("s-2")], Smart = new Domain.Pools.SmartSelection("alpha", [], "Halted", []),
        };
        state = Step(state, new DefineJob(smart));
        Assert.Empty(JobCoverage.Covering(state.Jobs.Values, state.Runs, OtherVm, Sr)); // never picked yet
        state = Step(state, new RecordRun(new RunLaunch("run-9", "job-2", "s-2", [OtherVm], "manual", DateTimeOffset.UnixEpoch)));
        Assert.Equal(["job-2"], JobCoverage.Covering(state.Jobs.Values, state.Runs, OtherVm, Sr).Select(j => j.Id));
        Assert.StartsWith("vm: ", Refusal(state, new ForgetVm(OtherVm)));

        // The VM taken out of the named job: its replica on the SR is an orphan.
        state = Step(state, new ChangeJob("job-1", new Dictionary<string, string> { ["vms"] = OtherVm }));
        Assert.Empty(JobCoverage.Covering(state.Jobs.Values, state.Runs, Vm, Sr));
    }

    [Fact]
    public void The_runs_remembered_are_bounded()
    {
        var state = Defined();
        for (var i = 0; i < ControlState.RunsKept + 5; i++)
        {
            state = state.Apply(new RunRecorded(new RunLaunch($"run-{i}", "job-1", "s-1", [Vm], "manual", DateTimeOffset.UnixEpoch)));
        }

        Assert.Equal(ControlState.RunsKept, state.Runs.Count);
        Assert.Equal("run-5", state.Runs[0].RunId);
    }

    [Fact]
    public void The_jobs_network_mapping_comes_before_the_automatic_rule()
    {
        var lan = new NetworkInfo("OpaqueRef:lan", Guid.NewGuid().ToString(), "LAN", -1, IsDefault: true);
        var dmz = new NetworkInfo("OpaqueRef:dmz", Guid.NewGuid().ToString(), "DMZ", 20);
        var source = new NetworkInfo("OpaqueRef:src", Guid.NewGuid().ToString(), "LAN", -1);
        Assert.Equal(lan, NetworkMapping.Choose(source, [lan, dmz]));
        Assert.Equal(dmz, NetworkMapping.Choose(source, [lan, dmz], new Dictionary<string, string> { [source.Uuid] = dmz.Uuid }));
        Assert.Equal(lan, NetworkMapping.Choose(source, [lan, dmz], new Dictionary<string, string> { [source.Uuid] = Guid.NewGuid().ToString() })); // gone: the rule decides
    }

    [Theory]
    [InlineData("100MiB", 104857600L)]
    [InlineData("20MB", 20000000L)]
    [InlineData("5000", 5000L)]
    [InlineData("lots", null)]
    [InlineData("-5", null)]
    public void Byte_sizes_read_as_operators_type_them(string text, long? bytes) => Assert.Equal(bytes, Units.ParseBytes(text));

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("2h", 7200)]
    [InlineData("01:00:00", 3600)]
    public void Durations_read_as_operators_type_them(string text, double seconds) => Assert.Equal(TimeSpan.FromSeconds(seconds), Units.ParseDuration(text));
}
