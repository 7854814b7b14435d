using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>A held request (the job's concurrency) waits in the VM's queue, shown queued, until released; released it runs now
/// or behind another job's run; a run that ends never starts a held one; one dropped is a failed run and frees the job.</summary>
public sealed class TurnTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch;

    private static ReplicateVm Request(string job, string run, bool held = false) => new("vm-1", run, "alpha",
        new JobRef(job, job, job + "-s", "s"), [new TargetRef("beta", "sr-1")], new ReplicationSettings()) { Held = held };

    private static ReplicatedVmState Apply(ReplicatedVmState state, IEnumerable<IReplicatedVmEvent> events)
        => events.Aggregate(state, (s, e) => s.Apply(e));

    [Fact]
    public void A_held_request_waits_even_on_an_idle_vm_and_starts_when_released()
    {
        var idle = new ReplicatedVmState { VmUuid = "vm-1" };
        var (events, reply) = idle.Process(Request("job-a", "run-1", held: true), At);
        Assert.True(Assert.IsType<RunAccepted>(reply).Queued);
        var held = Apply(idle, events);
        Assert.Equal("queued", held.StatusOf("run-1"));
        Assert.IsType<RunRejected>(held.Process(Request("job-a", "run-2"), At).Reply); // the job is running (queued)

        var released = Apply(held, held.Release("run-1", At));
        Assert.Equal("running", released.StatusOf("run-1"));
        Assert.False(released.Current!.Held);
        Assert.Empty(released.Release("run-1", At)); // once
    }

    [Fact]
    public void Released_behind_another_jobs_run_it_starts_when_that_ends_and_a_held_one_never_starts_by_itself()
    {
        var state = Apply(new ReplicatedVmState { VmUuid = "vm-1" }, [new RunStarted("vm-1", Request("job-b", "other"), At),
            new RunQueued("vm-1", Request("job-a", "run-1", held: true), At)]);
        var ended = Apply(state, state.Finish(new RunResult("other", RunStatus.Success, null, true, null, [], []), At));
        Assert.Null(ended.Current); // held: not started by the end of another run
        Assert.Equal("queued", ended.StatusOf("run-1"));

        var released = Apply(state, state.Release("run-1", At));
        Assert.Equal("queued", released.StatusOf("run-1")); // behind job-b's run
        var next = Apply(released, released.Finish(new RunResult("other", RunStatus.Success, null, true, null, [], []), At));
        Assert.Equal("running", next.StatusOf("run-1"));
    }

    [Fact]
    public void A_dropped_held_request_is_a_failed_run_that_made_nothing_and_frees_the_job()
    {
        var state = Apply(new ReplicatedVmState { VmUuid = "vm-1" }, [new RunQueued("vm-1", Request("job-a", "run-1", held: true), At)]);
        var dropped = Apply(state, state.Drop("run-1", "the coordinator went away", At));
        Assert.Equal("failure", dropped.StatusOf("run-1"));
        Assert.Equal("the coordinator went away", Assert.Single(dropped.History).Result.Error);
        Assert.Empty(dropped.Queue);
        Assert.IsType<RunAccepted>(dropped.Process(Request("job-a", "run-2"), At).Reply);
        Assert.Empty(dropped.Drop("run-1", "again", At));
    }
}
