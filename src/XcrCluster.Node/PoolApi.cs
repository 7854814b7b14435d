using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Xapi;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>Pools: register (after a login with what is given; the password sealed with the cluster key, never returned),
/// list, load of the agent.</summary>
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
            var pool = new PoolRegistration(request.Name ?? "", endpoint.Url.GetLeftPart(UriPartial.Authority), user, key.Encrypt(password),
                request.Fingerprint, request.AllowUnauthorized);
            if (ControlState.PoolInvalid(pool) is { } bad)
            {
                return Results.BadRequest(new { error = bad });
            }

            // Checked before the login too (the control plane checks again when storing): a taken name costs no login.
            if (!request.Replace && (await ControlAsync<PoolList>(registry, new GetPools())).Pools.Any(p => p.Name == pool.Name))
            {
                return Results.Conflict(new { error = ControlState.PoolExists(pool.Name) });
            }

            // The login is made where the pool is served (a node with its role, or pool-all), as every later XAPI session is.
            var checkedLogin = await AskPartAsync<PoolLoginChecked>(await registry.GetAsync<PoolAgents>(), new CheckPoolLogin(pool.Name, pool),
                $"the nodes serving pool {pool.Name}");
            if (checkedLogin.Error is { } failed)
            {
                return failed.StartsWith("no node serves pool", StringComparison.Ordinal)
                    ? Results.Json(new { error = failed }, statusCode: StatusCodes.Status503ServiceUnavailable)
                    : Results.BadRequest(new { error = $"login to {pool.Url}: {failed}" });
            }

            return Reply(await ControlAsync<IControlReply>(registry, new RegisterPool(pool, request.Replace)));
        });
        app.MapGet("/api/pools", async (ActorRegistry registry) =>
        {
            var pools = await ControlAsync<PoolList>(registry, new GetPools());
            return Results.Json(
                pools.Pools.Select(p => new { name = p.Name, url = p.Url, username = p.User, fingerprint = p.Fingerprint,
                allowUnauthorized = p.AllowUnauthorized }));
        });
        app.MapGet("/api/pools/{name}/load", async (string name, ActorRegistry registry) =>
        {
            var pools = await ControlAsync<PoolList>(registry, new GetPools());
            if (pools.Pools.All(p => p.Name != name))
            {
                return Results.NotFound(new { error = $"no pool {name}" });
            }

            var agents = await registry.GetAsync<PoolAgents>();
            var load = await AskPartAsync<PoolLoad>(agents, new GetPoolLoad(name), $"the agent of pool {name}");
            return Results.Json(new { pool = name, snapshotsInUse = load.SnapshotsInUse, transfersInUse = load.TransfersInUse,
                waiting = load.Waiting, node = load.Node });
        });
    }
}
