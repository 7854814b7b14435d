using Akka.Actor;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>The entity with an in-memory journal and an executor completed by hand.</summary>
public sealed class ReplicatedVmActorTests() : Akka.TestKit.Xunit2.TestKit("""
    akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
    """)
{
    [Fact]
    public void One_run_per_job_other_jobs_queue_and_the_history_keeps_restore_points_and_rpo()
    {
        var executor = new ManualExecutor();
        var vm = Sys.ActorOf(ReplicatedVmActor.Props("vm-1", executor));
        var first = Requests.For("vm-1", "job-a");
        vm.Tell(first, TestActor);
        Assert.False(ExpectMsg<RunAccepted>().Queued);
        vm.Tell(Requests.For("vm-1", "job-a"), TestActor);
        Assert.Equal("the job (job-a) is already running", ExpectMsg<RunRejected>().Reason);
        var other = Requests.For("vm-1", "job-b");
        vm.Tell(other, TestActor);
        Assert.True(ExpectMsg<RunAccepted>().Queued);

        AwaitCondition(() => executor.Started.Contains(first.RunId));
        executor.Complete(Requests.Success(first.RunId, "rp-1"));
        AwaitCondition(() => executor.Started.Contains(other.RunId));
        executor.Complete(Requests.Success(other.RunId, "rp-2"));
        AwaitAssert(() =>
        {
            vm.Tell(new GetVmStatus("vm-1"), TestActor);
            var state = ExpectMsg<ReplicatedVmState>();
            Assert.Null(state.Current);
            Assert.Equal([first.RunId, other.RunId], state.History.Select(h => h.RunId));
            Assert.Equal(["rp-1", "rp-2"], state.RestorePoints["sr-1"]);
            Assert.NotNull(state.RpoLag(DateTimeOffset.UtcNow));
        });
    }

    [Fact]
    public void A_run_lost_with_its_node_is_recorded_as_interrupted_and_the_queue_goes_on()
    {
        var executor = new ManualExecutor();
        var vm = Sys.ActorOf(ReplicatedVmActor.Props("vm-2", executor));
        var lost = Requests.For("vm-2", "job-a");
        var queued = Requests.For("vm-2", "job-b");
        vm.Tell(lost, TestActor);
        ExpectMsg<RunAccepted>();
        vm.Tell(queued, TestActor);
        ExpectMsg<RunAccepted>();
        Watch(vm);
        Sys.Stop(vm);
        ExpectTerminated(vm);

        var again = Sys.ActorOf(ReplicatedVmActor.Props("vm-2", executor));
        AwaitCondition(() => executor.Started.Contains(queued.RunId));
        again.Tell(new GetVmStatus("vm-2"), TestActor);
        var state = ExpectMsg<ReplicatedVmState>();
        var interrupted = Assert.Single(state.History);
        Assert.Equal(lost.RunId, interrupted.RunId);
        Assert.Equal("interrupted", interrupted.Result.Status);
        Assert.Equal(queued.RunId, state.Current?.RunId);
    }

    [Fact]
    public void Bad_settings_and_jobs_without_targets_are_refused_with_the_field_named()
    {
        var vm = Sys.ActorOf(ReplicatedVmActor.Props("vm-3", new ManualExecutor()));
        vm.Tell(Requests.For("vm-3", "job-a") with { Settings = new Domain.ReplicationSettings { CopyRetention = 0 } }, TestActor);
        Assert.Contains("copyRetention", ExpectMsg<RunRejected>().Reason);
        vm.Tell(Requests.For("vm-3", "job-a") with { Targets = [] }, TestActor);
        Assert.Contains("no target", ExpectMsg<RunRejected>().Reason);
    }
}
