namespace XcrCluster.Xapi.Tests;

/// <summary>Endpoints for in-process simulated pools.</summary>
public static class ClientPools
{
    public const string Password = "s3cr3t-Pa55@word";

    public static Task<SimHost> StartAsync(Func<XapiSim.SimOptions, XapiSim.SimOptions>? configure = null, string? dataDir = null)
        => SimHost.StartAsync(o => (configure?.Invoke(o) ?? o) with { Password = Password }, dataDir);

    public static XapiEndpoint Endpoint(SimHost sim, int host = 0, XapiTls? tls = null)
        => XapiEndpoint.Parse($"{sim.Server.HostUrls[host].Scheme}://root:{Uri.EscapeDataString(Password)}@{sim.Server.HostUrls[host].Authority}", tls);

    public static Task<XapiClient> ConnectAsync(SimHost sim, XapiClientOptions? options = null, int host = 0, XapiTls? tls = null)
        => XapiClient.ConnectAsync(Endpoint(sim, host, tls), options);
}
