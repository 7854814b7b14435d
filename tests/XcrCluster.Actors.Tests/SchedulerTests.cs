using Akka.Actor;
using Akka.TestKit;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>The scheduler singleton's actor: due schedules start runs within seconds, missed ones once after a
/// restart and not again, overlapping runs are refused and logged, disabled schedules stay quiet.</summary>
public sealed class SchedulerTests() : Akka.TestKit.Xunit2.TestKit("""
    akka.loglevel = WARNING
    akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
    """)
{
    private static JobDefinition Job(string cron, DateTimeOffset defined, bool enabled = true)
        => new("job-1", "nightly", "alpha", [Guid.NewGuid().ToString()], [new TargetRef("beta", "sr")], new ReplicationSettings())
        {
            Schedules = [new JobSchedule("schedule-1", cron, Enabled: enabled)], Defined = defined,
        };

    [Fact]
    public void A_schedule_due_every_two_seconds_starts_its_runs_and_an_overlapping_one_is_refused_and_logged()
    {
        var (control, region) = (CreateTestProbe(), CreateTestProbe());
        var job = Job("*/2 * * * * *", DateTimeOffset.UtcNow);
        control.SetAutoPilot(new DelegateAutoPilot((sender, _) =>
        {
            sender.Tell(new JobList([job]));
            return AutoPilot.KeepRunning;
        }));
        Sys.ActorOf(SchedulerActor.Props(() => Task.FromResult(control.Ref), () => Task.FromResult(region.Ref)));

        var first = region.ExpectMsg<ReplicateVm>(TimeSpan.FromSeconds(10));
        Assert.StartsWith("schedule ", first.Job.ScheduleName);
        region.Reply(new RunAccepted(first.VmUuid, first.RunId, false));
        EventFilter.Warning(contains: "the job (job-1) is already running").ExpectOne(TimeSpan.FromSeconds(10), () =>
        {
            var second = region.ExpectMsg<ReplicateVm>(TimeSpan.FromSeconds(10));
            Assert.NotEqual(first.RunId, second.RunId);
            region.Reply(new RunRejected(second.VmUuid, second.RunId, "the job (job-1) is already running"));
        });
    }

    [Fact]
    public async Task Runs_missed_while_down_run_once_and_not_again_after_a_restart()
    {
        var (control, region) = (CreateTestProbe(), CreateTestProbe());
        // Five hourly runs missed; hourly at half an hour from now, so no new occurrence falls within the test (at "0 * * * *"
        // a run of the test across the full hour saw one more run, rightly).
        var job = Job($"{(DateTimeOffset.UtcNow.Minute + 30) % 60} * * * *", DateTimeOffset.UtcNow.AddHours(-5));
        control.SetAutoPilot(new DelegateAutoPilot((sender, _) =>
        {
            sender.Tell(new JobList([job]));
            return AutoPilot.KeepRunning;
        }));
        var scheduler = Sys.ActorOf(SchedulerActor.Props(() => Task.FromResult(control.Ref), () => Task.FromResult(region.Ref)), "scheduler-a");
        var missed = region.ExpectMsg<ReplicateVm>(TimeSpan.FromSeconds(10));
        region.Reply(new RunAccepted(missed.VmUuid, missed.RunId, false));
        region.ExpectNoMsg(TimeSpan.FromSeconds(3));

        Watch(scheduler);
        Sys.Stop(scheduler);
        ExpectTerminated(scheduler);
        await Task.Yield();
        Sys.ActorOf(SchedulerActor.Props(() => Task.FromResult(control.Ref), () => Task.FromResult(region.Ref)), "scheduler-b");
        region.ExpectNoMsg(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void A_disabled_schedule_never_starts_a_run()
    {
        var (control, region) = (CreateTestProbe(), CreateTestProbe());
        var job = Job("* * * * * *", DateTimeOffset.UtcNow.AddHours(-1), enabled: false);
        control.SetAutoPilot(new DelegateAutoPilot((sender, _) =>
        {
            sender.Tell(new JobList([job]));
            return AutoPilot.KeepRunning;
        }));
        Sys.ActorOf(SchedulerActor.Props(() => Task.FromResult(control.Ref), () => Task.FromResult(region.Ref)));
        control.ExpectMsg<GetJobs>(TimeSpan.FromSeconds(10));
        region.ExpectNoMsg(TimeSpan.FromSeconds(3));
    }
}
