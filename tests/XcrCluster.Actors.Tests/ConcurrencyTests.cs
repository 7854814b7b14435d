using System.Collections.Concurrent;
using Akka.Actor;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>A job's concurrency: <see cref="JobRunner.StartAsync"/> with the real entities (in-memory journal) behind a stand-in
/// for the shard region, runs completed by hand. What is observed is which VMs' runs the entities started and when: a VM
/// runs only once its turn came, so these fail when the setting is ignored (every VM would start at once).</summary>
public sealed class ConcurrencyTests() : Akka.TestKit.Xunit2.TestKit("""
    akka.test.single-expect-default = 20s
    akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
    """)
{
    private static readonly RunCoordinator.Options Fast =
        new(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));

    private static readonly string[] Three = ["vm-a1", "vm-a2", "vm-a3"];

    [Fact]
    public async Task Concurrency_1_runs_the_vms_one_after_the_other_in_the_jobs_order_the_others_shown_queued()
    {
        var executor = new CountingExecutor();
        var (run, starts, region) = await StartAsync(executor, concurrency: 1, Three);
        Assert.All(starts, s => Assert.True(s.Accepted));

        foreach (var vm in Three)
        {
            await AwaitAssertAsync(() => Assert.Equal(vm, Assert.Single(executor.Running)));
            Assert.Equal("running", Status(region, vm, run));
            Assert.All(Three.SkipWhile(v => v != vm).Skip(1), v => Assert.Equal("queued", Status(region, v, run)));
            executor.Complete(vm);
        }

        await AwaitAssertAsync(() => Assert.All(Three, v => Assert.Equal("success", Status(region, v, run))));
        Assert.Equal(Three, executor.Order);
        Assert.Equal(1, executor.MostAtOnce);
    }

    [Fact]
    public async Task Concurrency_2_of_3_runs_two_at_once_and_the_third_when_one_ends()
    {
        var executor = new CountingExecutor();
        var (run, _, region) = await StartAsync(executor, concurrency: 2, "vm-b1", "vm-b2", "vm-b3");
        await AwaitAssertAsync(() => Assert.Equal(["vm-b1", "vm-b2"], executor.Running.Order()));
        Assert.Equal("queued", Status(region, "vm-b3", run));
        executor.Complete("vm-b2");
        await AwaitAssertAsync(() => Assert.Equal(["vm-b1", "vm-b3"], executor.Running.Order()));
        executor.Complete("vm-b1");
        executor.Complete("vm-b3");
        await AwaitAssertAsync(() => Assert.Equal("success", Status(region, "vm-b3", run)));
        Assert.Equal(2, executor.MostAtOnce);
    }

    [Fact]
    public async Task A_vm_its_entity_refuses_or_that_never_answers_takes_no_slot_and_the_queue_goes_on()
    {
        var executor = new CountingExecutor();
        var region = Sys.ActorOf(Props.Create(() => new Entities(executor, new HashSet<string> { "vm-c3" })));
        region.Tell(Request("vm-c2", "earlier") with { Held = false }, TestActor);
        ExpectMsg<RunAccepted>();
        executor.Forget("vm-c2");

        var (run, starts, _) = await StartAsync(executor, concurrency: 1, region, "vm-c1", "vm-c2", "vm-c3", "vm-c4");
        Assert.Equal([true, false, false, true], starts.Select(s => s.Accepted));
        Assert.Equal("the job (job-c) is already running", starts[1].Reason);
        Assert.Contains("did not answer", starts[2].Reason);
        await AwaitAssertAsync(() => Assert.Equal("vm-c1", Assert.Single(executor.Running)));
        executor.Complete("vm-c1");
        await AwaitAssertAsync(() => Assert.Equal("vm-c4", Assert.Single(executor.Running)));
        executor.Complete("vm-c4");
        await AwaitAssertAsync(() => Assert.Equal("success", Status(region, "vm-c4", run)));
    }

    [Fact]
    public async Task A_vm_still_going_past_the_jobs_timeout_gives_its_slot_to_the_next_vm()
    {
        // The coordinator never waits for ever: past the job's timeout (and a margin, none here) the slot goes on.
        var executor = new CountingExecutor();
        var region = Sys.ActorOf(Props.Create(() => new Entities(executor, new HashSet<string>())));
        var (_, starts, _) = await StartAsync(executor, concurrency: 1, region, TimeSpan.FromSeconds(1), "vm-e1", "vm-e2");
        Assert.All(starts, s => Assert.True(s.Accepted));
        await AwaitAssertAsync(() => Assert.Equal(["vm-e1", "vm-e2"], executor.Running.Order()));
    }

    [Fact]
    public async Task A_held_run_whose_coordinator_goes_away_is_recorded_failed_and_the_jobs_next_run_is_accepted()
    {
        var executor = new CountingExecutor();
        var vm = Sys.ActorOf(ReplicatedVmActor.Props("vm-d1", executor, holdLease: TimeSpan.FromMilliseconds(400)));
        var held = Request("vm-d1", "lost") with { Held = true };
        vm.Tell(held, TestActor);
        Assert.True(ExpectMsg<RunAccepted>().Queued);
        await AwaitAssertAsync(async () =>
        {
            var dropped = Assert.Single((await vm.Ask<ReplicatedVmState>(new GetVmStatus("vm-d1"))).History);
            Assert.Equal(RunStatus.Failed, dropped.Result.Status);
            Assert.Contains("coordinator said nothing", dropped.Result.Error);
        }, TimeSpan.FromSeconds(20));
        Assert.Empty(executor.Order);
        Assert.Equal(new RunTurn("vm-d1", "lost", "failure"), ExpectMsg<RunTurn>()); // the sender of a held request is told its end
        vm.Tell(Request("vm-d1", "next"), TestActor);
        Assert.False(ExpectMsg<RunAccepted>().Queued);
    }

    private Task<(string Run, IReadOnlyList<JobRunner.VmStart> Starts, IActorRef Region)> StartAsync(CountingExecutor executor,
        int concurrency, params string[] vms)
        => StartAsync(executor, concurrency, Sys.ActorOf(Props.Create(() => new Entities(executor, new HashSet<string>()))), vms);

    private Task<(string Run, IReadOnlyList<JobRunner.VmStart> Starts, IActorRef Region)> StartAsync(CountingExecutor executor,
        int concurrency, IActorRef region, params string[] vms)
        => StartAsync(executor, concurrency, region, null, vms);

    private async Task<(string Run, IReadOnlyList<JobRunner.VmStart> Starts, IActorRef Region)> StartAsync(CountingExecutor executor,
        int concurrency, IActorRef region, TimeSpan? timeout, params string[] vms)
    {
        var job = new JobDefinition("job-" + vms[0][3], "job", "a", vms, [new TargetRef("b", "sr-1")],
            new ReplicationSettings { Concurrency = concurrency, Timeout = timeout });
        var actors = new JobRunner.Targets(region, Sys.ActorOf(ControlPlaneActor.Props()), ActorRefs.Nobody)
        {
            System = Sys, Coordination = Fast with { SlotMargin = TimeSpan.Zero },
        };
        var (run, starts) = await JobRunner.StartAsync(actors, job, new JobSchedule("s"), "test");
        return (run, starts, region);
    }

    private static string? Status(IActorRef region, string vm, string run)
        => region.Ask<ReplicatedVmState>(new GetVmStatus(vm), TimeSpan.FromSeconds(20)).Result.StatusOf(run);

    private static ReplicateVm Request(string vm, string run) => new(vm, run, "a", new JobRef("job-" + vm[3], "job", "s", "s"),
        [new TargetRef("b", "sr-1")], new ReplicationSettings());

    /// <summary>The shard region's stand-in: one entity per VM, forwarded to; the VMs in <c>silent</c> never answer.</summary>
    private sealed class Entities : ReceiveActor
    {
        public Entities(IRunExecutor executor, HashSet<string> silent) => Receive<IReplicatedVmMessage>(m =>
        {
            if (!silent.Contains(m.VmUuid))
            {
                (Context.Child(m.VmUuid).IsNobody() ? Context.ActorOf(ReplicatedVmActor.Props(m.VmUuid, executor), m.VmUuid)
                    : Context.Child(m.VmUuid)).Forward(m);
            }
        });
    }

    /// <summary>Runs completed by hand, by VM; counts how many run at once.</summary>
    private sealed class CountingExecutor : IRunExecutor
    {
        private readonly ConcurrentDictionary<string, (string Run, TaskCompletionSource<RunResult> Done)> running = new();
        private readonly ConcurrentQueue<string> order = new();
        private int most;

        public IReadOnlyCollection<string> Running => [.. running.Keys];

        public IReadOnlyList<string> Order => [.. order];

        public int MostAtOnce => most;

        public Task<RunResult> ExecuteAsync(ReplicateVm request, Akka.Streams.IMaterializer materializer, CancellationToken ct,
            Action<RunProgress>? progress = null)
        {
            var done = new TaskCompletionSource<RunResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (order)
            {
                running[request.VmUuid] = (request.RunId, done);
                order.Enqueue(request.VmUuid);
                most = Math.Max(most, running.Count);
            }

            return done.Task;
        }

        public void Complete(string vm)
        {
            lock (order)
            {
                running.TryRemove(vm, out var run);
                run.Done.SetResult(Requests.Success(run.Run));
            }
        }

        /// <summary>A run that never ends and is not counted (another run of the job, going on).</summary>
        public void Forget(string vm)
        {
            AwaitVm(vm);
            lock (order)
            {
                running.TryRemove(vm, out _);
                order.Clear();
                most = 0;
            }
        }

        public Task CancelAllAsync(TimeSpan grace) => Task.CompletedTask;

        private void AwaitVm(string vm)
            => Assert.True(SpinWait.SpinUntil(() => running.ContainsKey(vm), TimeSpan.FromSeconds(20)), $"{vm}'s run did not start");
    }
}
