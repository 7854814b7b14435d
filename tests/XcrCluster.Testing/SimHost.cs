using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Http;

namespace XcrCluster.Testing;

/// <summary>A simulated pool hosted in-process on loopback with its own temporary data directory.</summary>
public sealed class SimHost : IAsyncDisposable
{
    private SimHost(SimServer server, string dataDir)
    {
        Server = server;
        DataDir = dataDir;
    }

    public SimServer Server { get; }

    public string DataDir { get; }

    public SimPool Pool => Server.Pool;

    public Uri Url => Server.Url;

    public static string NewDataDir() => Path.Combine(Path.GetTempPath(), "xcr-sim-" + Guid.NewGuid().ToString("N")[..12]);

    public static async Task<SimHost> StartAsync(Func<SimOptions, SimOptions>? configure = null, string? dataDir = null)
    {
        dataDir ??= NewDataDir();
        var options = new SimOptions { DataDir = dataDir, CollectorInterval = TimeSpan.Zero };
        options = configure?.Invoke(options) ?? options;
        return new SimHost(await SimServer.StartAsync(options), dataDir);
    }

    public RpcClient Json() => new(Url, RpcClient.Transport.Json);

    public RpcClient Xml() => new(Url, RpcClient.Transport.Xml);

    /// <summary>Keep the data directory when disposed, so a restart test can start a new host on it.</summary>
    public bool KeepData { get; set; }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        if (!KeepData)
        {
            DeleteDataDir(DataDir);
        }
    }

    public static void DeleteDataDir(string dataDir)
    {
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
