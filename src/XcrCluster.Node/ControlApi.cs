using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.WebUtilities;
using XcrCluster.Actors;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Node;

/// <summary>
/// The HTTP control surface behind `xcr`: bearer token on every request; 400 naming the field for bad input;
/// 404 for unknown ids; nothing half-written by a rejected request. Passwords go in encrypted with the cluster key
/// and never come back out. Each area maps its own endpoints (PoolApi, JobApi, RunApi, ClusterApi, EventsApi, ...).
/// </summary>
public static class ControlApi
{
    /// <summary>A pool to register; <c>replace</c> must be true to register over a pool of the same name.</summary>
    public sealed record PoolRequest(
        string? Name, string? Url, string? Username, string? Password, string? Fingerprint, bool AllowUnauthorized, bool Replace);

    public static void Map(WebApplication app, NodeTokens tokens, ClusterKey key)
    {
        // A bare status (no route, wrong method, ...) still gets a JSON body: clients read every error the same way.
        app.UseStatusCodePages(context =>
        {
            var status = context.HttpContext.Response.StatusCode;
            return context.HttpContext.Response.WriteAsJsonAsync(new { error = $"{status} {ReasonPhrases.GetReasonPhrase(status)}" });
        });
        HealthApi.Use(app); // before the token: probes hold none
        WebUi.Use(app, tokens); // the dashboard's login page and static code; its pages need the session cookie
        app.Use(async (context, next) =>
        {
            if (!tokens.Accepts(context.Request.Headers.Authorization.ToString()) && !WebSession.Admits(context, tokens))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await context.Response.WriteAsJsonAsync(
                    new { error = "a bearer token is required (see the node's data directory, file token)" });
                return;
            }

            try
            {
                await next();
            }
            catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                var (status, error) = ErrorReply.Of(e, AskTimeout);
                if (status == StatusCodes.Status500InternalServerError)
                {
                    context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ControlApi))
                        .LogError(e, "{Method} {Path}", context.Request.Method, context.Request.Path);
                }

                context.Response.Clear();
                context.Response.StatusCode = status;
                await context.Response.WriteAsJsonAsync(new { error });
            }
        });
        PoolApi.Map(app, key);
        InventoryApi.Map(app, key);
        JobApi.Map(app);
        XoJobApi.Map(app);
        RunApi.Map(app);
        RpoApi.Map(app);
        RecoveryApi.Map(app, key);
        ClusterApi.Map(app, key);
        EventsApi.Map(app, key);
        LagApi.Map(app);
        NotifyApi.Map(app, key);
        NodeMetrics.Map(app);
    }

    /// <summary>How long a request waits for a cluster part (control plane, region, agent); `xcr-node --ask-timeout`.</summary>
    public static TimeSpan AskTimeout { get; internal set; } = TimeSpan.FromSeconds(30);

    /// <summary>The replication state of every VM a job ever covered (or of one job's VMs, with those of its recorded runs).</summary>
    internal static async Task<List<(string Vm, ReplicatedVmState State)>> VmStatesAsync(ActorRegistry registry, string? jobId)
    {
        var known = await ControlAsync<Known>(registry, new GetKnown());
        var job = jobId is null ? null : await JobAsync(registry, jobId);
        var vms = jobId is null
            ? known.Vms
            : (job?.Vms ?? []).Concat(known.Runs.Where(r => r.JobId == jobId).SelectMany(r => r.Vms)).Distinct().Where(known.Vms.Contains);
        var region = await registry.GetAsync<ReplicatedVmRegion>();
        var states = new List<(string, ReplicatedVmState)>();
        foreach (var vm in vms)
        {
            states.Add((vm, await VmStateAsync(region, vm)));
        }

        return states;
    }

    /// <summary>A VM's replication state, or null when no job covers or covered it (the control plane's known VMs): asking the
    /// region about any other VM would start — and, with remember-entities, keep — an entity for it.</summary>
    internal static async Task<ReplicatedVmState?> KnownVmStateAsync(ActorRegistry registry, string vm)
        => (await ControlAsync<Known>(registry, new GetKnown())).Vms.Contains(vm)
            ? await VmStateAsync(await registry.GetAsync<ReplicatedVmRegion>(), vm)
            : null;

    /// <summary>Asks a known VM's entity for its state (callers check the VM is known first).</summary>
    internal static Task<ReplicatedVmState> VmStateAsync(IActorRef region, string vm, CancellationToken ct = default)
        => AskPartAsync<ReplicatedVmState>(region, new GetVmStatus(vm), "the replicated-vm region", ct);

    /// <summary>Asks a cluster part; no answer within <see cref="AskTimeout"/> is a <see cref="PartTimeoutException"/>
    /// naming it (503).</summary>
    internal static async Task<T> AskPartAsync<T>(IActorRef part, object message, string name, CancellationToken ct = default)
    {
        try
        {
            return await part.Ask<T>(message, AskTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw new PartTimeoutException(name, AskTimeout);
        }
    }

    /// <summary>Asks the control plane singleton (pools, jobs), sending again with the same request id while it restarts
    /// (<see cref="ControlPlaneClient"/>), for <see cref="AskTimeout"/> at most.</summary>
    internal static async Task<T> ControlAsync<T>(ActorRegistry registry, IControlRequest message)
        where T : IControlReply
        => await ControlPlaneClient.AskAsync<T>(() => registry.GetAsync<ControlPlane>(), message, AskTimeout);

    internal static async Task<JobDefinition?> JobAsync(ActorRegistry registry, string id)
        => (await ControlAsync<JobReply>(registry, new GetJob(id))).Job;

    internal static IResult Reply(IControlReply reply) => reply switch
    {
        Done done => Results.Json(new { id = done.Id }),
        Refused refused => Results.BadRequest(new { error = refused.Reason }),
        NotFound missing => Results.NotFound(new { error = missing.Reason }),
        Conflict conflict => Results.Conflict(new { error = conflict.Reason }),
        _ => Results.Json(new { error = $"the control plane answered {reply.GetType().Name}, not the reply of a command" },
            statusCode: StatusCodes.Status500InternalServerError),
    };
}
