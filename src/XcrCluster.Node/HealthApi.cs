using Akka.Actor;
using Akka.Cluster;

namespace XcrCluster.Node;

/// <summary>
/// GET /healthz without a token, for probes that hold none (Kubernetes, load balancers): "ok" (200) while this node is
/// an Up member of its cluster, else 503 — joining, leaving, or removed. It tells nothing else. It runs before the token
/// middleware, so it must be added before it.
/// </summary>
public static class HealthApi
{
    public const string Path = "/healthz";

    public static void Use(WebApplication app) => app.Use(async (context, next) =>
    {
        if (context.Request.Path != Path || !HttpMethods.IsGet(context.Request.Method))
        {
            await next();
            return;
        }

        var up = context.RequestServices.GetService<ActorSystem>() is { } system
            && Cluster.Get(system).SelfMember.Status == MemberStatus.Up;
        context.Response.StatusCode = up ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(up ? "ok" : "not up");
    });
}
