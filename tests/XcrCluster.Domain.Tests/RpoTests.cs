using XcrCluster.Domain.Control;
using XcrCluster.Domain.Notify;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>RPO targets: set per job or schedule (validated, by name), which one a job has, the planner's choice of VMs to
/// start, lag measured from the newest restore point, and violation edges.</summary>
public sealed class RpoTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Target = TimeSpan.FromSeconds(30);
    private static readonly string Vm = Guid.NewGuid().ToString();
    private static readonly string Sr = Guid.NewGuid().ToString();

    private static JobDefinition Job(TimeSpan? rpo = null, params JobSchedule[] schedules)
        => new("job-1", "fast", "alpha", [Vm], [new TargetRef("beta", Sr)], new ReplicationSettings())
        {
            Schedules = schedules.Length > 0 ? schedules : [new JobSchedule("s-1")], Rpo = rpo, Defined = Now.AddHours(-1),
        };

    private static ControlState Pools()
        => new[] { "alpha", "beta" }.Aggregate(new ControlState(),
            (s, p) => s.Apply(new PoolRegistered(new PoolRegistration(p, "https://192.0.2.1", "root", "sealed", null, false))));

    private static (IControlEvent? Event, IControlReply Reply) Define(JobDefinition job) => Pools().Process(new DefineJob(job));

    [Fact]
    public void A_target_under_ten_seconds_is_refused_naming_the_field()
    {
        Assert.Equal("rpo: at least 10 s (got 5 s)", Assert.IsType<Refused>(Define(Job(TimeSpan.FromSeconds(5))).Reply).Reason);
        Assert.Equal("schedule: rpo: at least 10 s (got 9 s)", Assert.IsType<Refused>(
            Define(Job(null, new JobSchedule("s-1") { Rpo = TimeSpan.FromSeconds(9) })).Reply).Reason);
        Assert.IsType<Done>(Define(Job(TimeSpan.FromSeconds(10))).Reply);
    }

    [Fact]
    public void Rpo_is_set_and_cleared_by_name_on_a_job_and_a_schedule()
    {
        var state = Pools();
        state = state.Apply(state.Process(new DefineJob(Job())).Event!);
        state = state.Apply(state.Process(new ChangeJob("job-1", new Dictionary<string, string> { ["rpo"] = "15m" })).Event!);
        Assert.Equal(TimeSpan.FromMinutes(15), state.Jobs["job-1"].Rpo);
        var (e, _) = state.Process(new ChangeSchedule("job-1", "s-1", new Dictionary<string, string> { ["rpo"] = "30s" }));
        state = state.Apply(e!);
        Assert.Equal(Target, state.Jobs["job-1"].Schedules[0].Rpo);
        var soon = state.Process(new ChangeJob("job-1", new Dictionary<string, string> { ["rpo"] = "soon" })).Reply;
        Assert.Contains("rpo: \"soon\" is not valid", Assert.IsType<Refused>(soon).Reason);
        Assert.StartsWith("schedule: rpo: at least 10 s", Assert.IsType<Refused>(
            state.Process(new ChangeSchedule("job-1", "s-1", new Dictionary<string, string> { ["rpo"] = "2s" })).Reply).Reason);
        state = state.Apply(state.Process(new ChangeJob("job-1", new Dictionary<string, string> { ["rpo"] = "" })).Event!);
        Assert.Null(state.Jobs["job-1"].Rpo);
    }

    [Fact]
    public void A_schedule_with_an_rpo_and_no_cron_can_be_switched_and_so_can_a_job_with_its_own_rpo()
    {
        var state = Pools();
        state = state.Apply(state.Process(new DefineJob(Job(Target))).Event!);
        var (e, _) = state.Process(new EnableJob("job-1", false));
        state = state.Apply(e!);
        Assert.False(state.Jobs["job-1"].Schedules[0].Enabled);
        Assert.Null(RpoRules.Target(state.Jobs["job-1"], Now)); // switched off: no target kept, none reported
        var manual = Pools();
        manual = manual.Apply(manual.Process(new DefineJob(Job())).Event!);
        Assert.IsType<Refused>(manual.Process(new EnableSchedule("job-1", "s-1", true)).Reply);
    }

    [Fact]
    public void The_smallest_enabled_rpo_wins_the_jobs_own_goes_through_its_first_schedule_else_twice_the_cron_period()
    {
        var hourly = new JobSchedule("s-1", "0 * * * *");
        Assert.Equal(new RpoTarget(TimeSpan.FromHours(2), RpoRules.FromSchedule, null), RpoRules.Target(Job(null, hourly), Now));
        Assert.Equal(new RpoTarget(Target, RpoRules.FromRpo, hourly), RpoRules.Target(Job(Target, hourly), Now));
        var fast = new JobSchedule("s-2") { Rpo = TimeSpan.FromSeconds(20) };
        Assert.Equal(new RpoTarget(TimeSpan.FromSeconds(20), RpoRules.FromRpo, fast), RpoRules.Target(Job(Target, hourly, fast), Now));
        Assert.Equal(new RpoTarget(Target, RpoRules.FromRpo, hourly),
            RpoRules.Target(Job(Target, hourly, fast with { Enabled = false }), Now));
        Assert.Null(RpoRules.Target(Job(), Now));
    }

    [Fact]
    public void A_vm_starts_when_its_lag_plus_its_expected_run_reaches_the_target()
    {
        var ten = new[] { TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8) }; // expected 8 × 1.5 + 3 = 15 s
        Assert.Equal(TimeSpan.FromSeconds(15), RpoPlanner.Expected(ten));
        Assert.Empty(RpoPlanner.Due(Target, [new RpoVm("a", Now.AddSeconds(-14), false, ten)], Now));
        Assert.Equal(["a"], RpoPlanner.Due(Target, [new RpoVm("a", Now.AddSeconds(-15), false, ten)], Now));
        Assert.Empty(RpoPlanner.Due(Target, [new RpoVm("a", Now.AddSeconds(-29), false, [])], Now)); // nothing to go by: at the target
        Assert.Equal(["a"], RpoPlanner.Due(Target, [new RpoVm("a", Now.AddSeconds(-30), false, [])], Now));
    }

    [Fact]
    public void A_fast_changing_vm_is_due_again_as_soon_as_its_run_ends_and_never_while_one_runs_or_waits()
    {
        var slow = new[] { TimeSpan.FromSeconds(20) }; // 33 s expected: its lag after a run is already 20 s
        Assert.Equal(["a"], RpoPlanner.Due(Target, [new RpoVm("a", Now.AddSeconds(-20), false, slow)], Now));
        Assert.Empty(RpoPlanner.Due(Target, [new RpoVm("a", Now.AddSeconds(-20), true, slow)], Now));
        Assert.Empty(RpoPlanner.Due(Target, [new RpoVm("a", null, true, [])], Now));
        Assert.Equal(["new"], RpoPlanner.Due(Target, [new RpoVm("new", null, false, []), new RpoVm("b", Now, false, [])], Now));
    }

    [Fact]
    public void After_a_failed_run_a_vm_waits_before_it_is_tried_again()
    {
        var failed = new RpoVm("a", null, false, []) { LastFailure = Now.AddSeconds(-3) };
        Assert.Empty(RpoPlanner.Due(Target, [failed], Now));
        Assert.Equal(["a"], RpoPlanner.Due(Target, [failed], Now + RpoPlanner.RetryAfter));
    }

    [Fact]
    public void Lag_is_measured_from_the_newest_restore_points_snapshot_and_the_facts_come_from_the_entity()
    {
        var state = new ReplicatedVmState { VmUuid = Vm };
        var request = new ReplicateVm(Vm, "run-1", "alpha", new JobRef("job-1", "fast", "s-1", "fast"), [new TargetRef("beta", Sr)],
            new ReplicationSettings());
        state = state.Apply(new RunStarted(Vm, request, Now.AddSeconds(-50)));
        state = state.Apply(new SnapshotTaken(Vm, "run-1", "snap-1", Now.AddSeconds(-45)));
        Assert.True(state.Busy);
        var result = new RunResult("run-1", RunStatus.Success, null, true, "snap-1",
            [new TargetResult(Sr, true, null, "r", "rp-1", 10)], []);
        foreach (var e in state.Finish(result, Now.AddSeconds(-40)))
        {
            state = state.Apply(e);
        }

        Assert.False(state.Busy);
        Assert.Equal(Now.AddSeconds(-45), state.NewestPoint("job-1")); // the data's time, not the run's end
        Assert.Null(state.NewestPoint("job-2"));
        var facts = state.RpoFacts("job-1");
        Assert.Equal([TimeSpan.FromSeconds(10)], facts.RecentDurations);
        var row = RpoLag.Of(Job(Target), Vm, "web", state, Now);
        Assert.Equal(TimeSpan.FromSeconds(45), row.Lag);
        Assert.True(row.Violation);
        Assert.False(RpoLag.Of(Job(TimeSpan.FromMinutes(1)), Vm, "web", state, Now).Violation);
    }

    [Fact]
    public void No_restore_point_is_late_only_once_the_target_has_elapsed_since_the_job_was_defined()
    {
        Assert.False(RpoRules.Violated(Target, null, Now.AddSeconds(-29), Now));
        Assert.True(RpoRules.Violated(Target, null, Now.AddSeconds(-31), Now));
        Assert.False(RpoLag.Of(Job(), Vm, null, null, Now).Violation); // no target: never late
    }

    [Fact]
    public void Violated_and_recovered_are_published_on_edges_only()
    {
        RpoLag Row(double lag, bool late) => new("job-1", "fast", Vm, "web", Now.AddSeconds(-lag), null, TimeSpan.FromSeconds(lag),
            new RpoTarget(Target, RpoRules.FromRpo, null), null, late);
        var edges = new RpoEdges();
        (edges, var first) = edges.Step([Row(10, false)], Now);
        Assert.Empty(first);
        (edges, var late) = edges.Step([Row(40, true)], Now);
        Assert.Equal(40, Assert.IsType<RpoViolated>(Assert.Single(late)).LagSeconds);
        (edges, var still) = edges.Step([Row(50, true)], Now);
        Assert.Empty(still);
        (edges, var back) = edges.Step([Row(5, false)], Now);
        Assert.Equal(30, Assert.IsType<RpoRecovered>(Assert.Single(back)).TargetSeconds);
        (_, var gone) = edges.Step([], Now);
        Assert.Empty(gone);
    }

    [Fact]
    public void Late_vms_come_first()
    {
        RpoLag Row(string vm, double? lag, bool late) => new("job-1", "fast", vm, null, null, null,
            lag is { } l ? TimeSpan.FromSeconds(l) : null, null, null, late);
        Assert.Equal(["never", "b", "a", "c"],
            RpoLag.Sorted([Row("a", 40, true), Row("c", 100, false), Row("b", 50, true), Row("never", null, true)]).Select(r => r.Vm));
    }
}
