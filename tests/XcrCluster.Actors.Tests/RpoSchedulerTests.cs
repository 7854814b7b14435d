using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.TestKit;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Notify;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>The scheduler keeping an RPO target with a real VM entity and an executor completed by hand: a VM that changes
/// fast runs back to back and never twice at once, a smart selection's VMs are started, and the notices topic hears the VM go
/// late and come back.</summary>
public sealed class RpoSchedulerTests() : Akka.TestKit.Xunit2.TestKit(SingleNodeCluster.Config + "\nakka.test.single-expect-default = 20s")
{
    private static readonly TimeSpan Target = TimeSpan.FromSeconds(10);

    private static JobDefinition Job(string vm, DateTimeOffset defined, SmartSelection? smart = null)
        => new("job-1", "fast", "a", smart is null ? [vm] : [], [new TargetRef("b", "sr-1")], new ReplicationSettings { CopyRetention = 2 })
        {
            Schedules = [new JobSchedule("schedule-1")], Rpo = Target, Defined = defined, Smart = smart,
        };

    /// <summary>The control plane as the scheduler and the job runner ask it; the launches it was told to record.</summary>
    private IActorRef Control(JobDefinition job, string vm, ConcurrentQueue<RunLaunch> launches)
    {
        var control = CreateTestProbe();
        control.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            switch (message)
            {
                case GetJobs:
                    sender.Tell(new JobList([job]));
                    break;
                case GetKnown:
                    sender.Tell(new Known(launches.IsEmpty ? [] : [vm], [.. launches]));
                    break;
                case ControlRequest { Command: RecordRun record }:
                    launches.Enqueue(record.Run);
                    sender.Tell(new Done(record.Run.RunId));
                    break;
            }

            return AutoPilot.KeepRunning;
        }));
        return control.Ref;
    }

    private IActorRef Scheduler(IActorRef control, IActorRef region, TimeProvider clock, IActorRef? poolAgents = null)
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        return Sys.ActorOf(SchedulerActor.Props(() => Task.FromResult(control), () => Task.FromResult(region),
            () => Task.FromResult(poolAgents ?? ActorRefs.Nobody), new RpoOptions { Clock = clock }));
    }

    [Fact]
    public void A_vm_that_changes_fast_runs_back_to_back_and_never_twice_at_once()
    {
        var vm = Guid.NewGuid().ToString();
        var executor = new ManualExecutor();
        var region = Sys.ActorOf(ReplicatedVmActor.Props(vm, executor));
        var launches = new ConcurrentQueue<RunLaunch>();

        // The scheduler's clock an hour ahead: to it every restore point is an hour old, as for a VM that changes so fast that
        // its lag plus its next run always reach the target. Each run must start as soon as the one before ends, not before.
        Scheduler(Control(Job(vm, DateTimeOffset.UtcNow), vm, launches), region, new ShiftedClock(TimeSpan.FromHours(1)));
        var done = new List<string>();
        for (var i = 1; i <= 3; i++)
        {
            AwaitCondition(() => executor.Started.Count == i);
            var run = Assert.Single(executor.Started.Except(done));
            executor.Complete(Requests.Success(run, $"rp-{i}"));
            done.Add(run);
        }

        AwaitCondition(() => executor.Started.Count == 4);

        // Every launch became a run: none was sent while the VM had one going (its entity would have refused it).
        Assert.Equal(4, launches.Count);
        Assert.All(launches, l => Assert.Equal(("rpo", "schedule-1", vm), (l.Trigger, l.ScheduleId, Assert.Single(l.Vms))));
        AwaitAssert(() =>
        {
            region.Tell(new GetVmStatus(vm), TestActor);
            var state = ExpectMsg<ReplicatedVmState>();
            Assert.Equal(done, state.History.Select(h => h.RunId));
            Assert.True(state.Queue.IsEmpty);
            Assert.All(state.History.Zip(state.History.Skip(1)), p => Assert.True(p.Item2.Started >= p.Item1.Finished));
            Assert.All(state.History, h => Assert.Equal("schedule-1", h.ScheduleId));
        });
    }

    [Fact]
    public void A_smart_selections_vm_is_started_for_the_rpo()
    {
        var vm = Guid.NewGuid().ToString();
        var executor = new ManualExecutor();
        var region = Sys.ActorOf(ReplicatedVmActor.Props(vm, executor));
        var agents = CreateTestProbe();
        agents.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is GetInventory)
            {
                sender.Tell(new PoolInventory("a", [], [new VmInfo(vm, "web01", "Running", ["web"], [], false),
                    new VmInfo(Guid.NewGuid().ToString(), "db01", "Running", ["db"], [], false)], DateTimeOffset.UtcNow));
            }

            return AutoPilot.KeepRunning;
        }));
        var launches = new ConcurrentQueue<RunLaunch>();
        var job = Job(vm, DateTimeOffset.UtcNow, SmartSelection.Parse("pool=a,tag=web"));
        Scheduler(Control(job, vm, launches), region, TimeProvider.System, agents.Ref);
        AwaitCondition(() => executor.Started.Count == 1);
        Assert.Equal([vm], Assert.Single(launches).Vms);
    }

    [Fact]
    public void The_notices_topic_hears_a_vm_go_late_then_recover()
    {
        var notices = CreateTestProbe();
        DistributedPubSub.Get(Sys).Mediator.Tell(new Subscribe(NoticeTopic.Name, notices.Ref), notices.Ref);
        notices.ExpectMsg<SubscribeAck>();
        var vm = Guid.NewGuid().ToString();
        var executor = new ManualExecutor();
        var region = Sys.ActorOf(ReplicatedVmActor.Props(vm, executor));

        // Defined an hour ago and never replicated: late at once, and started at once.
        Scheduler(Control(Job(vm, DateTimeOffset.UtcNow.AddHours(-1)), vm, new ConcurrentQueue<RunLaunch>()), region, TimeProvider.System);
        var late = notices.ExpectMsg<RpoViolated>();
        Assert.Equal(("job-1", vm, (double?)null, Target.TotalSeconds), (late.JobId, late.Vm, late.LagSeconds, late.TargetSeconds));
        AwaitCondition(() => executor.Started.Count == 1);
        executor.Complete(Requests.Success(Assert.Single(executor.Started)));
        var back = notices.ExpectMsg<RpoRecovered>();
        Assert.Equal(vm, back.Vm);
        Assert.InRange(back.LagSeconds, 0, Target.TotalSeconds);
    }

    private sealed class ShiftedClock(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + by;
    }
}
