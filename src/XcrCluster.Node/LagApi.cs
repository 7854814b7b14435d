using Akka.Hosting;
using XcrCluster.Domain.Vm;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>GET /api/vms/{uuid}/lag?hours=24: the VM's lag over the last hours as a saw-tooth (<see cref="LagSeries"/>), from
/// its runs and its restore points' snapshot times; what the dashboard plots per VM.</summary>
public static class LagApi
{
    /// <summary>A VM keeps the last runs per job (<see cref="ReplicatedVmState.HistoryPerJob"/>): a week is more than enough.</summary>
    public const int MaxHours = 24 * 7;

    public static void Map(WebApplication app) => app.MapGet("/api/vms/{uuid}/lag", async (string uuid, int? hours,
        ActorRegistry registry) =>
    {
        if (hours is < 1 or > MaxHours)
        {
            return Results.BadRequest(new { error = $"hours: between 1 and {MaxHours}" });
        }

        if (await KnownVmStateAsync(registry, uuid) is not { } state)
        {
            return Results.NotFound(new { error = $"no job covers or covered VM {uuid}" });
        }

        var to = DateTimeOffset.UtcNow;
        var from = to - TimeSpan.FromHours(hours ?? 24);
        var points = LagSeries.Build(LagSeries.Landings(state), from, to);
        return Results.Json(new { vm = uuid, from, to, points = points.Select(p => new { at = p.At, lagSeconds = p.LagSeconds }) });
    });
}
