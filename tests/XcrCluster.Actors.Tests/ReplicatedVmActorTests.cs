using Akka.Actor;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>The entity with an in-memory journal and an executor completed by hand. Replies are awaited up to 20 s, not the
/// TestKit's 3: on a loaded machine (CI on 2 cores) a persisted reply once took longer.</summary>
public sealed class ReplicatedVmActorTests() : Akka.TestKit.Xunit2.TestKit("""
    akka.test.single-expect-default = 20s
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
            Assert.Equal(["rp-1", "rp-2"], state.Chains.SelectMany(c => c.RestorePoints).Select(p => p.Uuid));
            Assert.NotNull(state.RpoLag(DateTimeOffset.UtcNow));
        });
    }

    [Fact]
    public void A_run_lost_after_its_snapshot_is_recorded_with_the_milestones_it_reached_and_what_the_next_run_removes()
    {
        var executor = new ManualExecutor();
        var vm = Sys.ActorOf(ReplicatedVmActor.Props("vm-3", executor));
        var lost = Requests.For("vm-3", "job-a");
        vm.Tell(lost, TestActor);
        ExpectMsg<RunAccepted>();
        AwaitCondition(() => executor.Started.Contains(lost.RunId));
        var sample = new RunProgress(lost.RunId, "job-a", "vm-3", null, null, null, 0, 0, RunPhase.Snapshot, DateTimeOffset.UtcNow);
        executor.Report(sample);
        executor.Report(sample with { Snapshot = "snap-9" });
        var export = sample with { Phase = RunPhase.Export, Disk = "vdi-1", DiskName = "disk 0", Sr = "sr-1", Total = 100 };
        executor.Report(export with { Bytes = 40 });
        executor.Report(export with { Bytes = 100 });
        executor.Report(export with { Disk = "vdi-2", Bytes = 10 });
        AwaitAssert(() =>
        {
            vm.Tell(new GetVmStatus("vm-3"), TestActor);
            var state = ExpectMsg<ReplicatedVmState>();
            Assert.Equal("snap-9", state.CurrentSnapshot);
            Assert.Equal([new DiskTransfer("vdi-1", "sr-1")], state.CurrentTransfers);
        });
        Watch(vm);
        Sys.Stop(vm);
        ExpectTerminated(vm);

        var again = Sys.ActorOf(ReplicatedVmActor.Props("vm-3", executor));
        AwaitAssert(() =>
        {
            again.Tell(new GetVmStatus("vm-3"), TestActor);
            var interrupted = Assert.Single(ExpectMsg<ReplicatedVmState>().History).Result;
            Assert.Equal(RunStatus.Interrupted, interrupted.Status);
            Assert.Equal("snap-9", interrupted.SourceSnapshotUuid);
            Assert.Contains("after its snapshot snap-9; 1 disk transfer(s) had ended (vdi-1 to SR sr-1)", interrupted.Error);
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

        // Logged with the run's ids (an executor never saw it end).
        var again = EventFilter.Warning(contains: $"run {lost.RunId} of job job-a: VM vm-2 ended interrupted")
            .ExpectOne(() => Sys.ActorOf(ReplicatedVmActor.Props("vm-2", executor)));
        AwaitCondition(() => executor.Started.Contains(queued.RunId));
        again.Tell(new GetVmStatus("vm-2"), TestActor);
        var state = ExpectMsg<ReplicatedVmState>();
        var interrupted = Assert.Single(state.History);
        Assert.Equal(lost.RunId, interrupted.RunId);
        Assert.Equal(RunStatus.Interrupted, interrupted.Result.Status);
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

    [Fact]
    public void The_run_starts_once_its_targets_are_read_and_what_differs_opens_its_log()
    {
        var executor = new ManualExecutor();
        var reader = new ManualChainReader();
        var vm = Sys.ActorOf(ReplicatedVmActor.Props("vm-4", executor, reader));
        var first = Requests.For("vm-4", "job-a");
        vm.Tell(first, TestActor);
        ExpectMsg<RunAccepted>();
        AwaitCondition(() => reader.Asked.Count == 1);
        Assert.Empty(executor.Started); // not before the read came back
        var xo = new ObservedRestorePoint("xo-1", "xo-job", "xo-schedule", DateTimeOffset.UnixEpoch, 10, "xo-snap", "xo-replica");
        reader.Answer(new SrObservation("b", "sr-1", [xo], ["xo-replica"]));
        AwaitCondition(() => executor.Started.Contains(first.RunId));
        executor.Complete(Requests.Success(first.RunId, "rp-1"));

        // The second run: the read fails, the run goes on, and the replica the first made is asked about.
        var second = Requests.For("vm-4", "job-a");
        AwaitAssert(() =>
        {
            vm.Tell(second, TestActor);
            ExpectMsg<RunAccepted>(TimeSpan.FromMilliseconds(200));
        });
        AwaitCondition(() => reader.Asked.Count == 2);
        Assert.Equal(["target-vm", "xo-replica"], reader.Asked[1].Order());
        reader.Fail(new TimeoutException("no answer within 20 s"));
        AwaitCondition(() => executor.Started.Contains(second.RunId));
        executor.Complete(Requests.Success(second.RunId, "rp-2"));
        AwaitAssert(() =>
        {
            vm.Tell(new GetVmStatus("vm-4"), TestActor);
            var state = ExpectMsg<ReplicatedVmState>();
            Assert.Equal(2, state.History.Count);
            var log = state.History[0].Result.Log;
            Assert.Equal(ReplicatedVmState.ReconcileLogName, log[0].Name);
            Assert.Contains("xo-1", log[0].Message);
            Assert.Contains("no answer within 20 s", state.History[1].Result.Log[0].Message);
            Assert.Equal(["rp-1", "rp-2"], state.Chains.Single(c => c.Key.JobId.Value == "job-a").RestorePoints.Select(p => p.Uuid));
            Assert.Equal(["xo-1"], state.Chains.Single(c => c.Key.JobId.Value == "xo-job").RestorePoints.Select(p => p.Uuid));
        });
    }
}

/// <summary>A chain reader the test answers by hand, recording the known replicas it was given.</summary>
internal sealed class ManualChainReader : IChainReader
{
    private TaskCompletionSource<(IReadOnlyList<SrObservation>, IReadOnlyList<SrReadFailure>)> pending = new();

    public List<IReadOnlyList<string>> Asked { get; } = [];

    public Task<(IReadOnlyList<SrObservation> Observed, IReadOnlyList<SrReadFailure> Failures)> ReadAsync(ReplicateVm request,
        IReadOnlyList<string> knownReplicas)
    {
        lock (Asked)
        {
            pending = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Asked.Add(knownReplicas);
            return pending.Task;
        }
    }

    public void Answer(SrObservation observed) => pending.SetResult(([observed], []));

    public void Fail(Exception e) => pending.SetException(e);
}
