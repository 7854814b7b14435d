using Akka.Hosting;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Recovery;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>Offline seed (`xcr seed export`, `xcr seed import`): for links too slow for a first full, a job snapshot's disks
/// carried as VHD files. The export runs on the source pool's agent, the import on the target SR's pool's agent; each
/// directory is on the node serving that pool. The job, schedule, VM and SR are checked here before any step is sent.</summary>
public static class OfflineSeedApi
{
    public sealed record ExportRequest(string? Vm, string? Job, string? Schedule, string? Dir);

    public sealed record ImportRequest(string? Dir, string? Sr, string? Job, string? Schedule);

    public static void Map(WebApplication app)
    {
        app.MapPost("/api/seed/export", async (ExportRequest request, ActorRegistry registry, CancellationToken ct) =>
        {
            if (request.Vm is null || request.Dir is null)
            {
                return Results.BadRequest(new { error = "vm and dir: the VM to seed and the directory to write its files to" });
            }

            var (job, jobRef, refusal) = await JobRefAsync(registry, request.Job, request.Schedule);
            if (refusal is not null)
            {
                return refusal;
            }

            var covered = job!.Vms.Contains(request.Vm) || (job.Smart is not null
                && (await ControlAsync<Known>(registry, new GetKnown())).Runs.Any(r => r.JobId == job.Id && r.Vms.Contains(request.Vm)));
            if (!covered)
            {
                var smart = job.Smart is null ? "" : " (a smart job's VMs are those its runs picked)";
                return Results.NotFound(new { error = $"VM {request.Vm} is not a VM of job {job.Id} ({job.Name}){smart}" });
            }

            var step = new SeedExport(request.Vm, jobRef!, request.Dir);
            return await RunAsync(registry, job.SourcePool, RecoveryKind.SeedExport, job.Id, step, ct);
        });

        app.MapPost("/api/seed/import", async (ImportRequest request, ActorRegistry registry, CancellationToken ct) =>
        {
            if (request.Dir is null || request.Sr is null)
            {
                return Results.BadRequest(new { error = "dir and sr: the seed directory and the target SR to make the replica on" });
            }

            if (request.Schedule is null)
            {
                return Results.BadRequest(new { error = "schedule: the id of the job's schedule the seed starts (xcr job show)" });
            }

            var (job, jobRef, refusal) = await JobRefAsync(registry, request.Job, request.Schedule);
            if (refusal is not null)
            {
                return refusal;
            }

            var target = job!.Targets.FirstOrDefault(t => t.SrUuid == request.Sr);
            if (target is null)
            {
                return Results.BadRequest(new
                {
                    error = $"SR {request.Sr} is not a target of job {job.Id} "
                        + $"({string.Join(", ", job.Targets.Select(t => $"{t.Pool}:{t.SrUuid}"))})",
                });
            }

            var settings = job.Schedule(request.Schedule)!.Apply(job.Settings);
            var step = new SeedImport(request.Dir, request.Sr, jobRef!)
            {
                NetworkMapping = settings.NetworkMapping, CopyRetention = settings.CopyRetention,
            };
            return await RunAsync(registry, target.Pool, RecoveryKind.SeedImport, job.Id, step, ct);
        });
    }

    /// <summary>The job and the schedule (its first when none is given) as a run names them; else the reply that refuses.</summary>
    private static async Task<(JobDefinition? Job, JobRef? Ref, IResult? Refusal)> JobRefAsync(ActorRegistry registry, string? jobId,
        string? scheduleId)
    {
        if (jobId is null)
        {
            return (null, null, Results.BadRequest(new { error = "job: the id of the job the seed is for" }));
        }

        if (await JobAsync(registry, jobId) is not { } job)
        {
            return (null, null, Results.NotFound(new { error = $"no job {jobId}" }));
        }

        var schedule = scheduleId is null ? job.Schedules.FirstOrDefault() : job.Schedule(scheduleId);
        if (schedule is null)
        {
            return (job, null, Results.NotFound(new { error = $"job {jobId} has no schedule {scheduleId}" }));
        }

        return (job, new JobRef(job.Id, job.Name, schedule.Id, schedule.Name.Length > 0 ? schedule.Name : "seed"), null);
    }

    /// <summary>The step on the pool's agent: a refusal is answered 409 and not recorded; anything else is recorded.</summary>
    private static async Task<IResult> RunAsync(ActorRegistry registry, string pool, RecoveryKind kind, string jobId, IRecoveryStep step,
        CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var outcome = await Recoveries.StepAsync(registry, pool, step, ct);
        if (Recoveries.Refused(outcome))
        {
            return Recoveries.Refusal(outcome);
        }

        return await Recoveries.RecordAsync(registry,
            new RecoveryRecord(Recoveries.NewId(started), kind, jobId, started, DateTimeOffset.UtcNow, [outcome]));
    }
}
