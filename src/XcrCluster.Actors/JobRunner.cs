using Akka.Actor;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Starts a run of a job's schedule: its VMs (those named, and those its smart selection picks in the source
/// pool's inventory now), one request each to its ReplicatedVm entity (which refuses a second run of the same job
/// with "the job is already running"), by hand or by the scheduler; the run is recorded with the control plane so it
/// can be found by id. With more VMs than the job's concurrency (0: unlimited) a <see cref="RunCoordinator"/> runs at most that
/// many at once, the others queued in the job's order.</summary>
public static class JobRunner
{
    public sealed record VmStart(string Vm, bool Accepted, string? Reason);

    /// <summary>How many entities a start without a coordinator asks at once (a bound, not a pace). Each answers once its
    /// request is persisted (and, if passivated, recovered): asked one at a time, a minutely job over 10 000 VMs took
    /// minutes to start (bench entities). An entity on a node that died answers only once its shard has a new home, or
    /// the ask times out: with 64 in flight the asks to a killed node's third of the VMs soon held every slot for 30 s
    /// each, and the live nodes' VMs started minutes late, so the window is wide enough for any one node's share.</summary>
    public const int StartsInFlight = 4096;

    public sealed record Targets(IActorRef Region, IActorRef ControlPlane, IActorRef PoolAgents)
    {
        /// <summary>Where a run's <see cref="RunCoordinator"/> is started: needed when a run has more VMs than its concurrency.</summary>
        public ActorSystem? System { get; init; }

        public RunCoordinator.Options Coordination { get; init; } = RunCoordinator.Options.Default;
    }

    /// <summary>A run of the job's schedule; <paramref name="only"/>: of these VMs only (a planned failover's final run of one
    /// VM), through the same path as any run.</summary>
    public static async Task<(string RunId, IReadOnlyList<VmStart> Vms)> StartAsync(Targets actors, JobDefinition job, JobSchedule schedule,
        string trigger, IReadOnlyList<string>? only = null)
    {
        var runId = Guid.NewGuid().ToString();
        var settings = schedule.Apply(job.Settings);
        var jobRef = new JobRef(job.Id, job.Name, schedule.Id, schedule.Name.Length > 0 ? schedule.Name : trigger);
        var chosen = only?.ToList() ?? job.Vms.Concat(await SmartAsync(actors.PoolAgents, job).ConfigureAwait(false))
            .Distinct(StringComparer.Ordinal).ToList();
        var launch = new RunLaunch(runId, job.Id, schedule.Id, chosen, trigger, DateTimeOffset.UtcNow);
        await ControlPlaneClient.AskAsync<IControlReply>(actors.ControlPlane, new RecordRun(launch), TimeSpan.FromSeconds(30))
            .ConfigureAwait(false);
        var requests = chosen.Select(vm => new ReplicateVm(vm, runId, job.SourcePool, jobRef, job.Targets, settings)).ToList();
        if (settings.Concurrency > 0 && requests.Count > settings.Concurrency)
        {
            var system = actors.System ?? throw new InvalidOperationException("a run under a concurrency needs the actor system");
            var started = new TaskCompletionSource<IReadOnlyList<VmStart>>(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(RunCoordinator.Props(actors.Region, requests, settings.Concurrency, actors.Coordination, started),
                $"run-{runId}");
            return (runId, await started.Task.ConfigureAwait(false));
        }

        var vms = new VmStart[requests.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, requests.Count), new ParallelOptions { MaxDegreeOfParallelism = StartsInFlight },
            async (i, _) =>
            {
                var vm = requests[i].VmUuid;
                var wait = actors.Coordination.StartTimeout;
                try
                {
                    var reply = await actors.Region.Ask<IReplicatedVmMessage>(requests[i], wait).ConfigureAwait(false);
                    vms[i] = reply is RunRejected rejected ? new VmStart(vm, false, rejected.Reason) : new VmStart(vm, true, null);
                }
                catch (AskTimeoutException)
                {
                    // As a coordinated start says it; the other VMs are still asked (a failed recovery of one entity
                    // cost 884 of 10 000 VMs their run when the first timeout ended the start: bench entities).
                    vms[i] = new VmStart(vm, false,
                        $"its entity did not answer within {wait.TotalSeconds:F0} s (it may still run: see the run)");
                }
            }).ConfigureAwait(false);
        return (runId, vms);
    }

    /// <summary>The VMs the smart selection picks in the pool's inventory (its agent reads it); a pool that cannot be
    /// read fails the start with the agent's reason.</summary>
    private static async Task<IReadOnlyList<string>> SmartAsync(IActorRef poolAgents, JobDefinition job)
    {
        if (job.Smart is not { } smart)
        {
            return [];
        }

        var reply = await poolAgents.Ask<IPoolAgentMessage>(new GetInventory(job.SourcePool), TimeSpan.FromSeconds(30))
            .ConfigureAwait(false);
        return reply is PoolInventory inventory
            ? [.. smart.Select(inventory.Vms, job.Id).Select(v => v.Uuid)]
            : throw new InvalidOperationException($"pool {job.SourcePool}: {(reply as InventoryFailed)?.Reason ?? "no inventory"}");
    }
}
