using Akka.Hosting;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>`xcr failover planned`: every VM checked before anything changes (the job covers it, a replica with a restore
/// point exists, no run of it is in progress, the source VM can be shut down, the replica can be started); a refusal of any
/// VM refuses the command. Then each VM in turn (<see cref="PlannedFailovers"/>); one failing does not stop the others.</summary>
public static class PlannedFailoverApi
{
    public sealed record PlannedRequest(string? Vm, string? Job, bool DryRun);

    /// <summary>What one VM's planned failover acts on: its job and schedule, and the chain whose replica will run.</summary>
    internal sealed record Plan(string Vm, JobDefinition Job, JobSchedule Schedule, ReplicaChain Chain, IReadOnlyList<LogLine> Checks);

    public static void Map(WebApplication app)
    {
        app.MapPost("/api/failover/planned", async (PlannedRequest request, ActorRegistry registry) =>
        {
            if (request.Vm is null == (request.Job is null))
            {
                return Results.BadRequest(new { error = "give one of vm (a VM's uuid) or job (every VM of a job)" });
            }

            var jobs = (await ControlAsync<JobList>(registry, new GetJobs())).Jobs;
            var known = await ControlAsync<Known>(registry, new GetKnown());
            JobDefinition? job;
            if (request.Job is { } jobId)
            {
                job = jobs.FirstOrDefault(j => j.Id == jobId);
                if (job is null)
                {
                    return Results.NotFound(new { error = $"no job {jobId}" });
                }
            }
            else
            {
                var covering = JobCoverage.Covering(jobs, known.Runs, request.Vm!);
                job = covering.Count == 1 ? covering[0] : null;
                if (job is null)
                {
                    return Results.Conflict(new
                    {
                        error = covering.Count == 0 ? $"VM {request.Vm}: no job covers it: nothing replicates it to fail over to"
                            : $"VM {request.Vm}: jobs {string.Join(", ", covering.Select(j => j.Id))} cover it: name one (--job)",
                    });
                }
            }

            var vms = request.Vm is { } one ? [one]
                : job.Vms.Concat(known.Runs.Where(r => r.JobId == job.Id).SelectMany(r => r.Vms))
                    .Distinct(StringComparer.Ordinal).ToList();
            var plans = new List<Plan>();
            foreach (var vm in vms)
            {
                var (plan, refusal) = await CheckAsync(registry, job, known, vm);
                if (plan is null)
                {
                    return Recoveries.Refusal(refusal!);
                }

                plans.Add(plan);
            }

            var started = DateTimeOffset.UtcNow;
            var id = Recoveries.NewId(started);
            var outcomes = new List<RecoveryVmOutcome>();
            foreach (var plan in plans)
            {
                // Past the checks the failover goes to its end (or back), whatever the client does: no request token.
                outcomes.Add(request.DryRun ? PlannedFailovers.DryRun(plan) : await PlannedFailovers.RunAsync(registry, plan, id));
            }

            var record = new RecoveryRecord(id, RecoveryKind.FailoverPlanned, job.Id, started, DateTimeOffset.UtcNow, outcomes);
            return request.DryRun ? Results.Json(Recoveries.Body(record)) : await Recoveries.RecordAsync(registry, record);
        });
    }

    /// <summary>Every check of one VM, nothing changed: a plan, or the refusal (an outcome naming the reason).</summary>
    private static async Task<(Plan? Plan, RecoveryVmOutcome? Refusal)> CheckAsync(ActorRegistry registry, JobDefinition job, Known known,
        string vm)
    {
        RecoveryVmOutcome Refuse(string reason, IReadOnlyList<LogLine>? log = null)
            => RecoveryVmOutcome.Failed(vm, reason, log) with { Details = new Dictionary<string, string> { ["refused"] = "true" } };

        if (!JobCoverage.Covering([job], known.Runs, vm).Any())
        {
            return (null, Refuse($"job {job.Id} does not cover it"));
        }

        var state = known.Vms.Contains(vm) ? await KnownVmStateAsync(registry, vm) : null;
        var chain = state?.Chains.Where(c => c.Key.JobId.Value == job.Id && c.RestorePoints.Count > 0 && c.ReplicaVmUuid is not null)
            .OrderByDescending(c => c.RestorePoints.Max(p => p.SnapshotTime)).FirstOrDefault();
        if (chain is null)
        {
            return (null, Refuse($"no replica with a restore point of job {job.Id} is known (xcr replica list): run the job first"));
        }

        if (state!.Current is { } running)
        {
            return (null, Refuse($"run {running.RunId} of job {running.Job.JobId} is in progress: wait for its end"));
        }

        if (job.Schedule(chain.Key.ScheduleId.Value) is not { } schedule)
        {
            return (null, Refuse($"schedule {chain.Key.ScheduleId.Value} of the replica's chain is no longer in job {job.Id}"));
        }

        var source = await Recoveries.StepAsync(registry, job.SourcePool, new SourcePower(vm, SourcePowerAction.Check));
        if (source.Status != RunStatus.Success)
        {
            return (null, Refuse(source.Error ?? "the source VM cannot be checked", source.Log));
        }

        var replica = await Recoveries.StepAsync(registry, chain.Pool,
            new StartReplica(vm, chain.Key.SrUuid.Value, true, null, job.Id)
            {
                DryRun = true, Newest = chain.RestorePoints.LastOrDefault()?.Uuid,
            });
        if (replica.Status != RunStatus.Success)
        {
            return (null, Refuse(replica.Error ?? "the replica cannot be started", [.. source.Log, .. replica.Log]));
        }

        return (new Plan(vm, job, schedule, chain, [.. source.Log, .. replica.Log]), null);
    }
}
