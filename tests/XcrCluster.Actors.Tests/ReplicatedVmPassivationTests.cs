using Akka.Cluster.Sharding;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>An idle entity asks its shard (here the test actor, its parent) to passivate it; one with a run going does not
/// (xcr.replicated-vm.passivate-idle-after).</summary>
public sealed class ReplicatedVmPassivationTests() : Akka.TestKit.Xunit2.TestKit("""
    akka.test.single-expect-default = 20s
    akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
    xcr.replicated-vm.passivate-idle-after = 300ms
    """)
{
    [Fact]
    public void An_idle_entity_asks_its_shard_to_passivate_it_and_stops_on_the_go_ahead()
    {
        var vm = ChildActorOf(ReplicatedVmActor.Props("vm-idle", new ManualExecutor()));
        Watch(vm);
        vm.Tell(new GetVmStatus("vm-idle"), TestActor);
        ExpectMsg<ReplicatedVmState>();
        var passivate = ExpectMsg<Passivate>();
        vm.Tell(passivate.StopMessage, TestActor);
        ExpectTerminated(vm);
    }

    [Fact]
    public void An_entity_with_a_run_going_stays_until_the_run_ends()
    {
        var executor = new ManualExecutor();
        var vm = ChildActorOf(ReplicatedVmActor.Props("vm-busy", executor));
        var run = Requests.For("vm-busy", "job-a");
        vm.Tell(run, TestActor);
        ExpectMsg<RunAccepted>();
        AwaitCondition(() => executor.Started.Contains(run.RunId));
        ExpectNoMsg(TimeSpan.FromSeconds(1.5)); // five idle periods: a running entity is never passivated
        executor.Complete(Requests.Success(run.RunId));
        ExpectMsg<Passivate>();
    }
}
