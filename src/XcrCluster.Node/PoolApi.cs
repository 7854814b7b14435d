using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Xapi;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>Pools: register (the password sealed with the cluster key, never returned), list, load of the agent.</summary>
public static class PoolApi
{
    public static void Map(WebApplication app, ClusterKey key)
    {
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
            return Reply(await ControlAsync<IControlMessage>(registry, new RegisterPool(pool)));
        });
        app.MapGet("/api/pools", async (ActorRegistry registry) =>
        {
            var pools = await ControlAsync<PoolList>(registry, new GetPools());
            return Results.Json(pools.Pools.Select(p => new { name = p.Name, url = p.Url, username = p.User, fingerprint = p.Fingerprint, allowUnauthorized = p.AllowUnauthorized }));
        });
        app.MapGet("/api/pools/{name}/load", async (string name, ActorRegistry registry) =>
        {
            var pools = await ControlAsync<PoolList>(registry, new GetPools());
            if (pools.Pools.All(p => p.Name != name))
            {
                return Results.NotFound(new { error = $"no pool {name}" });
            }

            var load = await (await registry.GetAsync<PoolAgents>()).Ask<PoolLoad>(new GetPoolLoad(name), AskTimeout);
            return Results.Json(new { pool = name, snapshotsInUse = load.SnapshotsInUse, transfersInUse = load.TransfersInUse, waiting = load.Waiting, node = load.Node });
        });
    }
}
