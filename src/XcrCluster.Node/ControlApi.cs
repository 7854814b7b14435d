using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;

namespace XcrCluster.Node;

/// <summary>
/// The minimal HTTP control surface (the next issue grows it into the full API behind `xcr`): register a pool,
/// define a job, run it now, read a run. Bearer token on every request; 400 naming the field for bad input;
/// 404 for unknown ids. Passwords go in encrypted with the cluster key and never come back out.
/// </summary>
public static class ControlApi
{
    public sealed record PoolRequest(string? Name, string? Url, string? Username, string? Password, string? Fingerprint, bool AllowUnauthorized);

    public sealed record TargetRequest(string? Pool, string? Sr);

    public sealed record JobRequest(string? Name, string? SourcePool, List<string>? Vms, List<TargetRequest>? Targets, ReplicationSettings? Settings, JobSchedule? Schedule);

    public static void Map(WebApplication app, string token, ClusterKey key)
    {
        app.Use(async (context, next) =>
        {
            if (context.Request.Headers.Authorization.ToString() != $"Bearer {token}")
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await context.Response.WriteAsJsonAsync(new { error = "a bearer token is required (see the node's data directory, file token)" });
                return;
            }

            await next();
        });

        app.MapPost("/api/pools", async (PoolRequest request, ActorRegistry registry) =>
        {
            if (request.Url is null || request.Username is null && !XapiEndpoint.HasPasswordInUrl(request.Url))
            {
                return Results.BadRequest(new { error = request.Url is null ? "url: required" : "username: required" });
            }

            XapiEndpoint endpoint;
            try
            {
                endpoint = XapiEndpoint.Parse(request.Url);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                return Results.BadRequest(new { error = $"url: {e.Message.Replace(" (Parameter 'url')", "", StringComparison.Ordinal)}" });
            }

            var user = request.Username ?? endpoint.Credentials?.User ?? "";
            var password = request.Password ?? endpoint.Credentials?.Password.Reveal() ?? "";
            var pool = new PoolRegistration(request.Name ?? "", endpoint.Url.GetLeftPart(UriPartial.Authority), user, key.Encrypt(password), request.Fingerprint, request.AllowUnauthorized);
            return Reply(await (await registry.GetAsync<ControlPlane>()).Ask<IControlMessage>(new RegisterPool(pool), TimeSpan.FromSeconds(30)));
        });
        app.MapGet("/api/pools", async (ActorRegistry registry) =>
        {
            var pools = await (await registry.GetAsync<ControlPlane>()).Ask<PoolList>(new GetPools(), TimeSpan.FromSeconds(30));
            return Results.Json(pools.Pools.Select(p => new { name = p.Name, url = p.Url, username = p.User, fingerprint = p.Fingerprint, allowUnauthorized = p.AllowUnauthorized }));
        });
        app.MapGet("/api/pools/{name}/load", async (string name, ActorRegistry registry) =>
        {
            var pools = await (await registry.GetAsync<ControlPlane>()).Ask<PoolList>(new GetPools(), TimeSpan.FromSeconds(30));
            if (pools.Pools.All(p => p.Name != name))
            {
                return Results.NotFound(new { error = $"no pool {name}" });
            }

            var load = await (await registry.GetAsync<PoolAgents>()).Ask<PoolLoad>(new GetPoolLoad(name), TimeSpan.FromSeconds(30));
            return Results.Json(new { pool = name, snapshotsInUse = load.SnapshotsInUse, transfersInUse = load.TransfersInUse, waiting = load.Waiting, node = load.Node });
        });
        app.MapGet("/api/node", async (ActorSystem system, TaskCompletionSource<XcrCluster.DataChannel.ChannelReceiver> channel) =>
        {
            var receiver = await channel.Task;
            var (transfers, bytes) = receiver.Received;
            return Results.Json(new
            {
                address = Akka.Cluster.Cluster.Get(system).SelfAddress.ToString(),
                roles = Akka.Cluster.Cluster.Get(system).SelfRoles.Order(),
                channel = new { endpoint = receiver.Endpoint.ToString(), tls = receiver.TlsFingerprint is not null, transfersReceived = transfers, bytesReceived = bytes },
            });
        });
        app.MapPost("/api/cluster/{action}", (string action, string? address, ActorSystem system) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            if (action == "down-unreachable")
            {
                var unreachable = cluster.State.Unreachable.Select(m => m.Address).ToList();
                unreachable.ForEach(cluster.Down);
                return Results.Json(new { downed = unreachable.Select(a => a.ToString()) });
            }

            if (action is not ("leave" or "down"))
            {
                return Results.NotFound(new { error = $"no cluster action {action} (leave, down, down-unreachable)" });
            }

            var member = cluster.State.Members.FirstOrDefault(m => m.Address.ToString() == address);
            if (member is null)
            {
                return address is null ? Results.BadRequest(new { error = "address: required" }) : Results.NotFound(new { error = $"no member {address}" });
            }

            if (action == "leave")
            {
                cluster.Leave(member.Address);
            }
            else
            {
                cluster.Down(member.Address);
            }

            return Results.Json(new { address = member.Address.ToString(), action });
        });
        app.MapGet("/api/sharding/regions", (ActorSystem system) => Results.Json(Akka.Cluster.Sharding.ClusterSharding.Get(system).ShardTypeNames.Order()));
        app.MapGet("/api/sharding/regions/{region}", async (string region, ActorSystem system) =>
        {
            var sharding = Akka.Cluster.Sharding.ClusterSharding.Get(system);
            if (!sharding.ShardTypeNames.Contains(region))
            {
                return Results.NotFound(new { error = $"no region {region}" });
            }

            var stats = await sharding.ShardRegion(region).Ask<Akka.Cluster.Sharding.ShardRegionStats>(Akka.Cluster.Sharding.GetShardRegionStats.Instance, TimeSpan.FromSeconds(10));
            return Results.Json(new { region, shards = stats.Stats.OrderBy(s => s.Key).Select(s => new { id = s.Key, entities = s.Value }), failed = stats.Failed });
        });
        app.MapGet("/api/cluster", (ActorSystem system) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            return Results.Json(new
            {
                self = cluster.SelfAddress.ToString(),
                members = cluster.State.Members.Select(m => new { address = m.Address.ToString(), roles = m.Roles.Order(), status = m.Status.ToString(), version = m.AppVersion.ToString() }),
                unreachable = cluster.State.Unreachable.Select(m => m.Address.ToString()),
            });
        });
        app.MapPost("/api/jobs", async (JobRequest request, ActorRegistry registry) =>
        {
            var job = new JobDefinition(Guid.NewGuid().ToString(), request.Name ?? "", Guid.NewGuid().ToString(), request.SourcePool ?? "", request.Vms ?? [],
                [.. (request.Targets ?? []).Select(t => new TargetRef(t.Pool ?? "", t.Sr ?? ""))], request.Settings ?? new ReplicationSettings())
            {
                Schedule = request.Schedule, Defined = DateTimeOffset.UtcNow,
            };
            var reply = await (await registry.GetAsync<ControlPlane>()).Ask<IControlMessage>(new DefineJob(job), TimeSpan.FromSeconds(30));
            return reply is Done ? Results.Json(new { id = job.Id, scheduleId = job.ScheduleId }) : Reply(reply);
        });
        app.MapGet("/api/jobs", async (ActorRegistry registry) =>
        {
            var jobs = await (await registry.GetAsync<ControlPlane>()).Ask<JobList>(new GetJobs(), TimeSpan.FromSeconds(30));
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
                : Reply(await (await registry.GetAsync<ControlPlane>()).Ask<IControlMessage>(new EnableJob(id, enabled), TimeSpan.FromSeconds(30))));
        }

        app.MapGet("/api/runs", async (string? job, ActorRegistry registry) =>
        {
            var runs = new List<(RunRecord Run, string Vm)>();
            foreach (var (vm, state) in await VmStatesAsync(registry, job))
            {
                runs.AddRange(state.History.Where(h => job is null || h.JobId == job).Select(h => (h, vm)));
            }

            return Results.Json(runs.OrderByDescending(r => r.Run.Started).Select(r => new
            {
                id = r.Run.RunId, jobId = r.Run.JobId, vm = r.Vm, status = r.Run.Result.Status, full = r.Run.Result.Full, started = r.Run.Started, finished = r.Run.Finished,
                bytes = r.Run.Result.Targets.Sum(t => t.BytesSent), error = r.Run.Result.Error,
            }));
        });
        app.MapGet("/api/replicas", async (string? vm, ActorRegistry registry) =>
        {
            var states = await VmStatesAsync(registry, null);
            return Results.Json(states.Where(s => vm is null || s.Vm == vm).SelectMany(s => s.State.RestorePoints.Select(p => new { vm = s.Vm, sr = p.Key, restorePoints = p.Value })));
        });
        app.MapGet("/api/rpo", async (ActorRegistry registry) =>
        {
            var jobs = await (await registry.GetAsync<ControlPlane>()).Ask<JobList>(new GetJobs(), TimeSpan.FromSeconds(30));
            var region = await registry.GetAsync<ReplicatedVmRegion>();
            var now = DateTimeOffset.UtcNow;
            var rows = new List<object>();
            foreach (var job in jobs.Jobs)
            {
                var period = job.Schedule is { } schedule ? ScheduleRules.Period(schedule, now) : null;
                foreach (var vm in job.Vms)
                {
                    var state = await region.Ask<ReplicatedVmState>(new GetVmStatus(vm), TimeSpan.FromSeconds(30));
                    var lag = state.RpoLag(now);
                    rows.Add(new
                    {
                        jobId = job.Id, job = job.Name, vm, lastSuccess = state.LastSuccess, lagSeconds = lag?.TotalSeconds, periodSeconds = period?.TotalSeconds,
                        violation = period is { } p && (lag is null || lag > 2 * p),
                    });
                }
            }

            return Results.Json(rows);
        });
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
        app.MapGet("/api/jobs/{id}/runs/{runId}", async (string id, string runId, ActorRegistry registry) =>
        {
            if (await JobAsync(registry, id) is not { } job)
            {
                return Results.NotFound(new { error = $"no job {id}" });
            }

            var region = await registry.GetAsync<ReplicatedVmRegion>();
            var vms = new List<object>();
            foreach (var vm in job.Vms)
            {
                var state = await region.Ask<ReplicatedVmState>(new GetVmStatus(vm), TimeSpan.FromSeconds(30));
                var done = state.History.LastOrDefault(h => h.RunId == runId);
                var status = done?.Result.Status ?? (state.Current?.RunId == runId ? "running" : state.Queue.Any(q => q.RunId == runId) ? "queued" : "unknown");
                vms.Add(new { vm, status, full = done?.Result.Full, error = done?.Result.Error, sourceSnapshot = done?.Result.SourceSnapshotUuid, targets = done?.Result.Targets, log = done?.Result.Log,
                    tasks = done is null ? null : TaskTree.Build(vm, done.Result) });
            }

            return Results.Json(new { runId, jobId = id, vms });
        });
        app.MapGet("/api/vms/{uuid}", async (string uuid, ActorRegistry registry) =>
        {
            var state = await (await registry.GetAsync<ReplicatedVmRegion>()).Ask<ReplicatedVmState>(new GetVmStatus(uuid), TimeSpan.FromSeconds(30));
            return state.History.IsEmpty && state.Current is null
                ? Results.NotFound(new { error = $"VM {uuid} was never replicated" })
                : Results.Json(new
                {
                    id = uuid,
                    running = state.Current?.RunId,
                    lastSuccess = state.LastSuccess,
                    rpoLagSeconds = state.RpoLag(DateTimeOffset.UtcNow)?.TotalSeconds,
                    restorePoints = state.RestorePoints,
                    runs = state.History.Select(h => new { id = h.RunId, jobId = h.JobId, h.Started, h.Finished, status = h.Result.Status, full = h.Result.Full, error = h.Result.Error }),
                });
        });
    }

    /// <summary>The replication state of every VM of the jobs (or of one job).</summary>
    private static async Task<List<(string Vm, ReplicatedVmState State)>> VmStatesAsync(ActorRegistry registry, string? jobId)
    {
        var jobs = await (await registry.GetAsync<ControlPlane>()).Ask<JobList>(new GetJobs(), TimeSpan.FromSeconds(30));
        var region = await registry.GetAsync<ReplicatedVmRegion>();
        var states = new List<(string, ReplicatedVmState)>();
        foreach (var vm in jobs.Jobs.Where(j => jobId is null || j.Id == jobId).SelectMany(j => j.Vms).Distinct())
        {
            states.Add((vm, await region.Ask<ReplicatedVmState>(new GetVmStatus(vm), TimeSpan.FromSeconds(30))));
        }

        return states;
    }

    private static async Task<JobDefinition?> JobAsync(ActorRegistry registry, string id)
        => (await (await registry.GetAsync<ControlPlane>()).Ask<JobReply>(new GetJob(id), TimeSpan.FromSeconds(30))).Job;

    private static IResult Reply(IControlMessage reply) => reply switch
    {
        Done done => Results.Json(new { id = done.Id }),
        Refused refused => Results.BadRequest(new { error = refused.Reason }),
        _ => Results.StatusCode(StatusCodes.Status500InternalServerError),
    };
}
