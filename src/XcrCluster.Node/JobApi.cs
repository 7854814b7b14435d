using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>Jobs: define, list, show, change (settings by name), delete (keeping or purging what they left), run
/// now, schedules added, removed, switched on and off.</summary>
public static class JobApi
{
    /// <summary>A schedule; <c>id</c> given keeps another tool's (Xen Orchestra's schedule id: its restore points name it).</summary>
    public sealed record ScheduleRequest(string? Cron, string? TimeZone, bool? Enabled, string? Name, int? CopyRetention, int? FullInterval,
        bool ForceFull, string? Id = null)
    {
        /// <summary>An SR uuid, "none" (no health check in this schedule) or null (the job's).</summary>
        public string? HealthCheckSr { get; init; }

        public List<string>? HealthCheckVmsWithTags { get; init; }

        public TimeSpan? HealthCheckTimeout { get; init; }

        /// <summary>The schedule's RPO target (at least 10 s), next to or instead of its cron.</summary>
        public TimeSpan? Rpo { get; init; }
    }

    /// <summary>A new job; <c>smart</c> as `xcr job create --smart` takes it: pool=alpha,tag=web,power=Running,exclude=test;
    /// <c>id</c> given keeps another tool's job id (Xen Orchestra's: its snapshots and replicas name it).</summary>
    public sealed record JobRequest(string? Name, string? SourcePool, List<string>? Vms, string? Smart, List<TargetRequest>? Targets,
        ReplicationSettings? Settings,
        ScheduleRequest? Schedule, List<ScheduleRequest>? Schedules, string? Id = null)
    {
        /// <summary>The job's RPO target, kept through its first schedule.</summary>
        public TimeSpan? Rpo { get; init; }
    }

    public sealed record TargetRequest(string? Pool, string? Sr);

    public static void Map(WebApplication app)
    {
        app.MapPost("/api/jobs", async (JobRequest request, ActorRegistry registry) =>
        {
            // Without any schedule a job still gets one (by hand only): its id scopes the restore points and seeds.
            var schedules = (request.Schedules ?? (request.Schedule is { } one ? [one]
                : [new ScheduleRequest(null, null, null, null, null, null, false)])).Select(Schedule).ToList();
            SmartSelection? smart;
            try
            {
                smart = request.Smart is { Length: > 0 } text ? SmartSelection.Parse(text) : null;
            }
            catch (FormatException e)
            {
                return Results.BadRequest(new { error = $"smart: {e.Message}" });
            }

            var job = new JobDefinition(request.Id ?? Guid.NewGuid().ToString(), request.Name ?? "", request.SourcePool ?? "",
                request.Vms ?? [], [.. (request.Targets ?? []).Select(t => new TargetRef(t.Pool ?? "", t.Sr ?? ""))],
                request.Settings ?? new ReplicationSettings())
            {
                Schedules = schedules, Defined = DateTimeOffset.UtcNow, Smart = smart, Rpo = request.Rpo,
            };
            var reply = await ControlAsync<IControlReply>(registry, new DefineJob(job));
            return reply is Done ? Results.Json(new { id = job.Id, scheduleId = job.ScheduleId, schedules = schedules.Select(s => s.Id) })
                : Reply(reply);
        });
        app.MapGet("/api/jobs", async (ActorRegistry registry) =>
            Results.Json((await ControlAsync<JobList>(registry, new GetJobs())).Jobs.Select(View)));
        app.MapGet("/api/jobs/{id}", async (string id, ActorRegistry registry) =>
            await JobAsync(registry, id) is { } job ? Results.Json(View(job)) : Results.NotFound(new { error = $"no job {id}" }));
        app.MapPatch("/api/jobs/{id}", async (string id, Dictionary<string, JsonElement> changes, ActorRegistry registry) =>
            Reply(await ControlAsync<IControlReply>(registry, new ChangeJob(id, changes.ToDictionary(c => c.Key, c => Text(c.Value))))));
        app.MapDelete("/api/jobs/{id}", async (string id, bool? purge, ActorRegistry registry) =>
            await DeleteAsync(registry, id, purge == true));
        foreach (var (verb, enabled) in new[] { ("enable", true), ("disable", false) })
        {
            app.MapPost($"/api/jobs/{{id}}/{verb}", async (string id, ActorRegistry registry) =>
                Reply(await ControlAsync<IControlReply>(registry, new EnableJob(id, enabled))));
            app.MapPost($"/api/jobs/{{id}}/schedules/{{scheduleId}}/{verb}", async (string id, string scheduleId, ActorRegistry registry) =>
                Reply(await ControlAsync<IControlReply>(registry, new EnableSchedule(id, scheduleId, enabled))));
        }

        app.MapPost("/api/jobs/{id}/schedules", async (string id, ScheduleRequest request, ActorRegistry registry) =>
            Reply(await ControlAsync<IControlReply>(registry, new AddSchedule(id, Schedule(request)))));
        app.MapPatch("/api/jobs/{id}/schedules/{scheduleId}", async (string id, string scheduleId,
            Dictionary<string, JsonElement> changes, ActorRegistry registry) => Reply(await ControlAsync<IControlReply>(registry,
                new ChangeSchedule(id, scheduleId, changes.ToDictionary(c => c.Key, c => Text(c.Value))))));
        app.MapDelete("/api/jobs/{id}/schedules/{scheduleId}", async (string id, string scheduleId, ActorRegistry registry) =>
            Reply(await ControlAsync<IControlReply>(registry, new RemoveSchedule(id, scheduleId))));
        app.MapPost("/api/jobs/{id}/run", async (string id, string? schedule, ActorRegistry registry, ActorSystem system) =>
        {
            if (await JobAsync(registry, id) is not { } job)
            {
                return Results.NotFound(new { error = $"no job {id}" });
            }

            if ((schedule is null ? job.Schedules[0] : job.Schedule(schedule)) is not { } chosen)
            {
                return Results.NotFound(new { error = $"no schedule {schedule} in job {id}" });
            }

            var actors = new JobRunner.Targets(await registry.GetAsync<ReplicatedVmRegion>(), await registry.GetAsync<ControlPlane>(),
                await registry.GetAsync<PoolAgents>()) { System = system };
            IReadOnlyList<JobRunner.VmStart> vms;
            string runId;
            try
            {
                (runId, vms) = await JobRunner.StartAsync(actors, job, chosen, "manual");
            }
            catch (InvalidOperationException e)
            {
                return Results.Json(new { error = $"smart: {e.Message}" }, statusCode: StatusCodes.Status502BadGateway);
            }
            catch (AskTimeoutException)
            {
                throw new PartTimeoutException("starting the run: the control plane, the replicated-vm region or the source pool's agent",
                    AskTimeout);
            }

            return Results.Json(new { runId, vms = vms.Select(v => new { vm = v.Vm, accepted = v.Accepted, reason = v.Reason }) },
                statusCode: StatusCodes.Status202Accepted);
        });
    }

    private static JobSchedule Schedule(ScheduleRequest r) => new(r.Id ?? Guid.NewGuid().ToString(), r.Cron, r.TimeZone ?? "UTC",
        r.Enabled ?? true)
    {
        Name = r.Name ?? "", CopyRetention = r.CopyRetention, FullInterval = r.FullInterval, ForceFull = r.ForceFull,
        HealthCheckSr = ScheduleChanges.HealthCheckSr(r.HealthCheckSr), HealthCheckVmsWithTags = r.HealthCheckVmsWithTags,
        HealthCheckTimeout = r.HealthCheckTimeout, Rpo = r.Rpo,
    };

    private static object View(JobDefinition j) => new
    {
        id = j.Id, name = j.Name, scheduleId = j.ScheduleId, sourcePool = j.SourcePool, vms = j.Vms, smart = j.Smart,
        targets = j.Targets.Select(t => new { pool = t.Pool, sr = t.SrUuid }),
        settings = j.Settings, defined = j.Defined, rpo = j.Rpo,
        schedules = j.Schedules.Select(s => new
        {
            id = s.Id, name = s.Name, cron = s.Cron, timeZone = s.TimeZone, enabled = s.Enabled, copyRetention = s.CopyRetention,
            fullInterval = s.FullInterval, forceFull = s.ForceFull, healthCheckSr = s.HealthCheckSr,
            healthCheckVmsWithTags = s.HealthCheckVmsWithTags, healthCheckTimeout = s.HealthCheckTimeout, rpo = s.Rpo,
            next = ScheduleRules.Next(s, DateTimeOffset.UtcNow),
        }),
    };

    /// <summary>JSON numbers and booleans as the text JobChanges reads.</summary>
    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.Null => "",
        JsonValueKind.Array => string.Join(",", value.EnumerateArray().Select(Text)),
        JsonValueKind.Object => string.Join(",", value.EnumerateObject().Select(p => $"{p.Name}={Text(p.Value)}")),
        _ => value.GetRawText(),
    };

    /// <summary>Deletes a job. Its snapshots and restore points stay on the pools (listed as orphans) unless purged;
    /// a running job is not deleted.</summary>
    private static async Task<IResult> DeleteAsync(ActorRegistry registry, string id, bool purge)
    {
        if (await JobAsync(registry, id) is not { } job)
        {
            return Results.NotFound(new { error = $"no job {id}" });
        }

        var known = await ControlAsync<Known>(registry, new GetKnown());
        var vms = job.Vms.Concat(known.Runs.Where(r => r.JobId == id).SelectMany(r => r.Vms)).Distinct().Where(known.Vms.Contains).ToList();
        var region = await registry.GetAsync<ReplicatedVmRegion>();
        foreach (var vm in vms)
        {
            if ((await VmStateAsync(region, vm)).Current?.Job.JobId == id)
            {
                return Results.Conflict(new { error = $"the job is running (VM {vm}): wait for the run to end" });
            }
        }

        var purged = purge ? await Purge.JobAsync(registry, job, vms) : null;
        var reply = await ControlAsync<IControlReply>(registry, new DeleteJob(id));
        if (reply is not Done)
        {
            return Reply(reply);
        }

        return Results.Json(purged is { } p
            ? new { id, purged = true,
                message = $"deleted; purged {p.Snapshots} source snapshots, {p.RestorePoints} restore points and {p.Replicas} replica VMs" }
            : new { id, purged = false,
                message = "deleted; its snapshots and restore points are kept on the pools and listed as orphans by `xcr replica list` "
                    + "(purge them with `xcr replica purge`)" });
    }
}
