using Prometheus;
using XcrCluster.DataChannel;

namespace XcrCluster.Node;

/// <summary>GET /metrics: the node's metrics in Prometheus text format, behind the bearer token like the rest of the API
/// (Prometheus scrapes with <c>authorization: credentials_file</c>). The engine's instruments (<see cref="MeterExport"/>),
/// the data channel's connections, and the process (CPU, memory, GC, threads).</summary>
public static class NodeMetrics
{
    public static void Map(WebApplication app)
    {
        var registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(registry);
        var export = new MeterExport(registry);
        app.Lifetime.ApplicationStopped.Register(export.Dispose);
        var connections = Metrics.WithCustomRegistry(registry).CreateGauge("xcr_data_channel_connections",
            "connections open now on this node's data channel (transfers from other nodes and peers still to say hello)");
        var channel = app.Services.GetRequiredService<TaskCompletionSource<ChannelReceiver>>();
        registry.AddBeforeCollectCallback(() =>
        {
            if (channel.Task.IsCompletedSuccessfully)
            {
                connections.Set(channel.Task.Result.Connections);
            }
        });
        app.MapMetrics(settings => settings.Registry = registry, "/metrics");
    }
}
