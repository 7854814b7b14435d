using System.Text.Json;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// The simulator's own surface under /sim/, outside XAPI: faults (GET, POST a partial JSON object, DELETE
/// clears), wire statistics (GET, DELETE resets), guest writes, disk checksums and the collector switch.
/// </summary>
internal static class SimRoutes
{
    public static void Map(WebApplication app, SimServer server)
    {
        var pool = server.Pool;
        app.MapGet("/sim/faults", () => Results.Json(FaultsJson.Of(pool.Faults)));
        app.MapPost("/sim/faults", async (HttpContext context) =>
        {
            var body = await JsonDocument.ParseAsync(context.Request.Body);
            var error = FaultsJson.Apply(pool.Faults, body.RootElement);
            return error is null ? Results.Json(FaultsJson.Of(pool.Faults)) : Results.BadRequest(new { error });
        });
        app.MapDelete("/sim/faults", () =>
        {
            pool.Faults.Clear();
            return Results.Json(FaultsJson.Of(pool.Faults));
        });
        app.MapGet("/sim/stats", () => Results.Json(pool.Stats.Snapshot()));
        app.MapDelete("/sim/stats", () =>
        {
            pool.Stats.Clear();
            return Results.NoContent();
        });
        app.MapPost("/sim/guest-write", (GuestWrite request) => Xapi(() =>
        {
            var (vdi, blocks) = GuestWorkload.Write(pool, request.Vm, request.Disk, request.Blocks, request.Seed,
                request.Offsets?.Select(o => (int)(o / Vhd.VhdConstants.DefaultBlockSize)).ToList());
            return new { vdi, blocks };
        }));
        var streams = new GuestStreams(pool);
        app.Lifetime.ApplicationStopping.Register(() => streams.DisposeAsync().AsTask().GetAwaiter().GetResult());
        app.MapPost("/sim/guest-write/continuous", async (GuestStream request) =>
        {
            try
            {
                return Results.Json(await streams.StartAsync(request.Vm, request.BytesPerSecond, request.Disk, request.Seed));
            }
            catch (XapiException e)
            {
                return Results.BadRequest(new { error = e.Description });
            }
        });
        app.MapGet("/sim/guest-write/continuous", () => Results.Json(streams.List()));
        app.MapDelete("/sim/guest-write/continuous", async (string vm) =>
            await streams.StopAsync(vm) is { } stopped
                ? Results.Json(stopped)
                : Results.NotFound(new { error = $"no writer for VM {vm}" }));
        app.MapGet("/sim/checksum", (string vdi) => Xapi(() => new { vdi, checksum = GuestWorkload.Checksum(pool, vdi) }));
        app.MapPost("/sim/collector", (CollectorSwitch request) =>
        {
            if (request.Paused is { } paused)
            {
                pool.Collector.Paused = paused;
            }

            var work = request.Run ? pool.Collector.RunOnce() : 0;
            return Results.Json(new { paused = pool.Collector.Paused, work });
        });
    }

    private static IResult Xapi(Func<object> action)
    {
        try
        {
            return Results.Json(action());
        }
        catch (XapiException e)
        {
            return Results.BadRequest(new { error = e.Description });
        }
    }

    private sealed record GuestWrite(string Vm, int Blocks, int Disk = 0, int Seed = 1, List<long>? Offsets = null);

    /// <summary>A continuous writer: <paramref name="Disk"/> null writes every disk of the VM in turn.</summary>
    private sealed record GuestStream(string Vm, long BytesPerSecond, int? Disk = null, int Seed = 1);

    private sealed record CollectorSwitch(bool? Paused, bool Run = false);
}
