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
/// The HTTP control surface behind `xcr`: bearer token on every request; 400 naming the field for bad input;
/// 404 for unknown ids; nothing half-written by a rejected request. Passwords go in encrypted with the cluster key
/// and never come back out. Each area maps its own endpoints (PoolApi, JobApi, RunApi, ClusterApi, EventsApi, ...).
/// </summary>
public static class ControlApi
{
    public sealed record PoolRequest(string? Name, string? Url, string? Username, string? Password, string? Fingerprint, bool AllowUnauthorized);

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

            try
            {
                await next();
            }
            catch (BadHttpRequestException e) when (!context.Response.HasStarted)
            {
                // A body that is not the JSON expected: say where (System.Text.Json names the path, e.g. $.settings.copyRetention).
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsJsonAsync(new { error = e.InnerException is System.Text.Json.JsonException j ? $"body: {j.Message}" : e.Message });
            }
            catch (Exception e) when (e is XapiException or HttpRequestException or IOException && !context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                await context.Response.WriteAsJsonAsync(new { error = $"a pool did not answer as expected: {e.Message}" });
            }
        });
        PoolApi.Map(app, key);
        InventoryApi.Map(app, key);
        JobApi.Map(app, key);
        RunApi.Map(app, key);
        ClusterApi.Map(app, key);
        EventsApi.Map(app, key);
    }

    public static TimeSpan AskTimeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>The replication state of every VM a job ever covered (or of one job's VMs, with those of its recorded runs).</summary>
    internal static async Task<List<(string Vm, ReplicatedVmState State)>> VmStatesAsync(ActorRegistry registry, string? jobId)
    {
        var known = await ControlAsync<Known>(registry, new GetKnown());
        var job = jobId is null ? null : await JobAsync(registry, jobId);
        var vms = jobId is null ? known.Vms : (job?.Vms ?? []).Concat(known.Runs.Where(r => r.JobId == jobId).SelectMany(r => r.Vms)).Distinct();
        var region = await registry.GetAsync<ReplicatedVmRegion>();
        var states = new List<(string, ReplicatedVmState)>();
        foreach (var vm in vms)
        {
            states.Add((vm, await region.Ask<ReplicatedVmState>(new GetVmStatus(vm), AskTimeout)));
        }

        return states;
    }

    /// <summary>Asks the control plane singleton (pools, jobs), sending again with the same request id while it restarts
    /// (<see cref="ControlPlaneClient"/>), for <see cref="AskTimeout"/> at most.</summary>
    internal static async Task<T> ControlAsync<T>(ActorRegistry registry, IControlMessage message)
        => await ControlPlaneClient.AskAsync<T>(() => registry.GetAsync<ControlPlane>(), message, AskTimeout);

    internal static async Task<JobDefinition?> JobAsync(ActorRegistry registry, string id)
        => (await ControlAsync<JobReply>(registry, new GetJob(id))).Job;

    internal static IResult Reply(IControlMessage reply) => reply switch
    {
        Done done => Results.Json(new { id = done.Id }),
        Refused refused => Results.BadRequest(new { error = refused.Reason }),
        NotFound missing => Results.NotFound(new { error = missing.Reason }),
        _ => Results.StatusCode(StatusCodes.Status500InternalServerError),
    };
}
