using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>Jobs: define, list, show, run now, schedule on/off.</summary>
public static class JobApi
{
    public static void Map(WebApplication app, ClusterKey key)
    {
        app.MapPost("/api/jobs", async (JobRequest request, ActorRegistry registry) =>
        {
            var job = new JobDefinition(Guid.NewGuid().ToString(), request.Name ?? "", Guid.NewGuid().ToString(), request.SourcePool ?? "", request.Vms ?? [],
                [.. (request.Targets ?? []).Select(t => new TargetRef(t.Pool ?? "", t.Sr ?? ""))], request.Settings ?? new ReplicationSettings())
            {
                Schedule = request.Schedule, Defined = DateTimeOffset.UtcNow,
            };
            var reply = await ControlAsync<IControlMessage>(registry, new DefineJob(job));
            return reply is Done ? Results.Json(new { id = job.Id, scheduleId = job.ScheduleId }) : Reply(reply);
        });
        app.MapGet("/api/jobs", async (ActorRegistry registry) =>
        {
            var jobs = await ControlAsync<JobList>(registry, new GetJobs());
            return Results.Json(jobs.Jobs.Select(j => new
            {
                id = j.Id, name = j.Name, scheduleId = j.ScheduleId, sourcePool = j.SourcePool, vms = j.Vms, targets = j.Targets, settings = j.Settings,
                schedule = j.Schedule is { } s ? new { s.Cron, s.TimeZone, s.Enabled, next = ScheduleRules.Next(s, DateTimeOffset.UtcNow) } : null,
            }));
        });
        foreach (var (verb, enabled) in new[] { ("enable", true), ("disable", false) })
        {
            app.MapPost($"/api/jobs/{{id}}/{verb}", async (string id, ActorRegistry registry) => await JobAsync(registry, id) is null
                ? Results.NotFound(new { error = $"no job {id}" })
                : Reply(await ControlAsync<IControlMessage>(registry, new EnableJob(id, enabled))));
        }

        app.MapGet("/api/jobs/{id}", async (string id, ActorRegistry registry) =>
            await JobAsync(registry, id) is { } job ? Results.Json(job) : Results.NotFound(new { error = $"no job {id}" }));
        app.MapPost("/api/jobs/{id}/run", async (string id, ActorRegistry registry) =>
        {
            if (await JobAsync(registry, id) is not { } job)
            {
                return Results.NotFound(new { error = $"no job {id}" });
            }

            var (runId, vms) = await JobRunner.StartAsync(await registry.GetAsync<ReplicatedVmRegion>(), job, "manual");
            return Results.Json(new { runId, vms = vms.Select(v => new { vm = v.Vm, accepted = v.Accepted, reason = v.Reason }) }, statusCode: StatusCodes.Status202Accepted);
        });
    }
}
