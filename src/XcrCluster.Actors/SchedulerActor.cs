using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using XcrCluster.Domain.Control;

namespace XcrCluster.Actors;

/// <summary>
/// The scheduler, a persistent cluster singleton: every second it reads the jobs from the control plane and starts
/// the runs of the schedules that are due, one per schedule however many occurrences were missed (it persists the
/// occurrence it fired for). A run still going when the next is due is refused by the VM's entity and logged,
/// not stacked; disabled schedules do nothing (jobs can still be run by hand). The journal stays bounded (a snapshot
/// every <see cref="SnapshotEvery"/> firings).
/// </summary>
public sealed partial class SchedulerActor : BoundedJournalActor, IWithTimers
{
    /// <summary>A snapshot every this many firings; older events are deleted once it is saved.</summary>
    public const int SnapshotEvery = 50;

    private static readonly TimeSpan TickEvery = TimeSpan.FromSeconds(1);
    private readonly ILoggingAdapter log = Context.GetLogger();
    private SchedulerState state = new();
    private bool busy;
    private RpoOptions? rpo;

    public SchedulerActor(Func<Task<IActorRef>> controlPlane, Func<Task<IActorRef>> region, Func<Task<IActorRef>> poolAgents,
        RpoOptions? rpo = null)
    {
        var system = Context.System;
        Func<Task<JobRunner.Targets>> actors = async () => new JobRunner.Targets(await region(), await controlPlane(), await poolAgents())
        {
            System = system,
        };
        Recover<SnapshotOffer>(offer => state = (SchedulerState)offer.Snapshot);
        Recover<ScheduleFired>(fired => state = state.Apply(fired));
        DeleteWhatSnapshotsCover("scheduler");
        Command<Tick>(_ =>
        {
            if (!busy)
            {
                busy = true;
                FetchJobsAsync(controlPlane).PipeTo(Self, failure: e => new JobsUnavailable(e.Message));
            }
        });
        Command<JobList>(jobs =>
        {
            busy = false;
            var due = state.Due(jobs.Jobs, DateTimeOffset.UtcNow);
            PersistAll(due, fired =>
            {
                state = state.Apply(fired);
                SnapshotOnEvery(SnapshotEvery, state);
                var job = jobs.Jobs.Single(j => j.Id == fired.JobId);
                StartAsync(actors, job, fired).PipeTo(Self);
            });
        });
        Command<JobsUnavailable>(e =>
        {
            busy = false;
            log.Warning("scheduler: the control plane did not answer: {0}", e.Reason);
        });
        Command<Started>(started =>
        {
            foreach (var refused in started.Refused)
            {
                log.Warning("scheduler: job {0} ({1}), run {2} refused for VM {3}: {4}", started.JobName, started.JobId, started.RunId,
                    refused.Vm, refused.Reason);
            }
        });
        Command<GetState>(_ => Sender.Tell(state));
        Command<Status.Failure>(failure => log.Warning("scheduler: a run could not be started: {0}", failure.Cause.Message));
        if (rpo is not null)
        {
            RpoCommands(rpo, actors);
            this.rpo = rpo;
        }
    }

    public override string PersistenceId => "scheduler";

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Without pool agents (tests), a job with a smart selection fails to start; without <paramref name="rpo"/>, RPO
    /// targets are neither kept nor reported (cron only).</summary>
    public static Props Props(Func<Task<IActorRef>> controlPlane, Func<Task<IActorRef>> region, Func<Task<IActorRef>>? poolAgents = null,
        RpoOptions? rpo = null)
        => Akka.Actor.Props.Create(() => new SchedulerActor(controlPlane, region,
            poolAgents ?? (() => Task.FromResult<IActorRef>(ActorRefs.Nobody)), rpo));

    /// <summary>In a node: the control plane, the region and the pool agents come from Akka.Hosting's registry.</summary>
    public static Props Props() => Akka.Actor.Props.Create(() => new SchedulerActor(
        () => ActorRegistry.For(Context.System).GetAsync<ControlPlane>(default),
        () => ActorRegistry.For(Context.System).GetAsync<ReplicatedVmRegion>(default),
        () => ActorRegistry.For(Context.System).GetAsync<PoolAgents>(default), RpoOptions.Default));

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("tick", Tick.Instance, TickEvery);
        if (rpo is not null)
        {
            Timers.StartPeriodicTimer("rpo", RpoTick.Instance, TimeSpan.FromMilliseconds(250));
        }
    }

    protected override void PostStop()
    {
        if (rpo is not null)
        {
            RpoGauges.Clear();
        }

        base.PostStop();
    }

    private static async Task<JobList> FetchJobsAsync(Func<Task<IActorRef>> controlPlane)
        => await (await controlPlane().ConfigureAwait(false)).Ask<JobList>(new GetJobs(), TimeSpan.FromSeconds(10)).ConfigureAwait(false);

    private static async Task<Started> StartAsync(Func<Task<JobRunner.Targets>> actors, JobDefinition job, ScheduleFired fired)
    {
        var (runId, vms) = await JobRunner.StartAsync(await actors().ConfigureAwait(false), job, job.Schedule(fired.ScheduleId)!,
            $"schedule {fired.Due:yyyy-MM-dd HH:mm:ss}Z").ConfigureAwait(false);
        return new Started(job.Id, job.Name, runId, [.. vms.Where(v => !v.Accepted)]);
    }

    /// <summary>Asks for the <see cref="SchedulerState"/> (on this node: it is not serialized).</summary>
    public sealed class GetState
    {
        public static readonly GetState Instance = new();
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record JobsUnavailable(string Reason);

    private sealed record Started(string JobId, string JobName, string RunId, IReadOnlyList<JobRunner.VmStart> Refused);
}

/// <summary>Marker type for the scheduler singleton in Akka.Hosting's registry.</summary>
public sealed class Scheduler
{
}
