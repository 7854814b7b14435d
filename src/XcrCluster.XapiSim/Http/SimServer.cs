using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// A simulated pool served over HTTP(S): one listening address per host (the first is the master), all
/// logging on stderr. Tests host it in-process; the `xcr-xapi-sim` program wraps it.
/// </summary>
public sealed class SimServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly Dictionary<string, string> hostByAddress;

    private SimServer(
        WebApplication app, SimPool pool, IReadOnlyList<Uri> hostUrls, string? fingerprint, CloseDelimitedFilter closeDelimited)
    {
        this.app = app;
        CloseDelimited = closeDelimited;
        Pool = pool;
        HostUrls = hostUrls;
        CertificateFingerprint = fingerprint;
        lock (pool.Db.Sync)
        {
            hostByAddress = pool.Hosts.ToDictionary(h => h.Str("address"), h => h.Ref);
        }
    }

    public SimPool Pool { get; }

    /// <summary>Takes Kestrel's Transfer-Encoding out of close-delimited export answers.</summary>
    internal CloseDelimitedFilter CloseDelimited { get; }

    /// <summary>URL of each host, in --listen order; the first is the master's.</summary>
    public IReadOnlyList<Uri> HostUrls { get; }

    public Uri Url => HostUrls[0];

    /// <summary>SHA-256 of the TLS certificate, hex, when serving HTTPS.</summary>
    public string? CertificateFingerprint { get; }

    public static async Task<SimServer> StartAsync(SimOptions options, CancellationToken ct = default)
    {
        // A free port is found by probing, then bound by Kestrel: another process (a parallel test lane) may take it
        // in between, so a port we chose ourselves is chosen again; a port the caller named is not.
        var chosen = options.Listen.Any(l => IPEndPoint.Parse(l).Port == 0);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(options, ct);
            }
            catch (IOException e) when (chosen && attempt < 5 && e.InnerException is AddressInUseException)
            {
            }
        }
    }

    private static async Task<SimServer> StartOnceAsync(SimOptions options, CancellationToken ct)
    {
        var endpoints = ResolvePorts(options.Listen);
        options = options with { Listen = endpoints.Select(e => e.ToString()).ToList() };
        var pool = new SimPool(options);
        var certificate = options.Tls ? LoadOrCreateCertificate(options.DataDir) : null;
        var closeDelimited = new CloseDelimitedFilter();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockPool.Factory>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Imports are whole disks at whatever pace the client sends.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            foreach (var endpoint in endpoints)
            {
                kestrel.Listen(endpoint, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    if (certificate is not null)
                    {
                        listen.UseHttps(certificate);
                    }

                    listen.Use(closeDelimited.Wrap);
                });
            }
        });
        var app = builder.Build();
        var scheme = certificate is null ? "http" : "https";
        var server = new SimServer(app, pool, endpoints.Select(e => new Uri($"{scheme}://{e}/")).ToList(),
            certificate is null ? null : Convert.ToHexString(SHA256.HashData(certificate.RawData)).ToLowerInvariant(), closeDelimited);
        RpcEndpoints.Map(app, server);
        try
        {
            await app.StartAsync(ct);
        }
        catch
        {
            await app.DisposeAsync();
            pool.Dispose();
            throw;
        }

        return server;
    }

    /// <summary>The host a request reached, by the local address it arrived on.</summary>
    public string HostOf(HttpContext context)
    {
        var local = context.Connection.LocalIpAddress?.ToString() ?? "127.0.0.1";
        return hostByAddress.TryGetValue(local, out var host) ? host : hostByAddress.Values.First();
    }

    public async ValueTask DisposeAsync()
    {
        // Transfers held open by a test's slow-peer fault would otherwise hold shutdown for Kestrel's 30 s.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        Pool.Faults.ReleaseHungCalls();
        await app.StopAsync(grace.Token);
        await app.DisposeAsync();
        Pool.Dispose();
    }

    /// <summary>Port 0 picks a free port; a member given port 0 shares the master's port on its own address,
    /// because XAPI clients follow HOST_IS_SLAVE by replacing only the host name.</summary>
    private static List<IPEndPoint> ResolvePorts(IReadOnlyList<string> listen)
    {
        var result = new List<IPEndPoint>();
        foreach (var entry in listen)
        {
            var endpoint = IPEndPoint.Parse(entry);
            if (endpoint.Port == 0)
            {
                var shared = result.Count > 0 && result.All(e => !e.Address.Equals(endpoint.Address)) ? result[0].Port
                    : FreePort(endpoint.Address);
                endpoint = new IPEndPoint(endpoint.Address, shared);
            }

            result.Add(endpoint);
        }

        return result;
    }

    /// <summary>Replaces the probe in the calling flow only, so a test can hand out a port that is already taken
    /// without touching servers other tests start in parallel.</summary>
    internal static AsyncLocal<Func<IPAddress, int>?> PortProbeOverride { get; } = new();

    private static int FreePort(IPAddress address) => (PortProbeOverride.Value ?? ProbeFreePort)(address);

    private static int ProbeFreePort(IPAddress address)
    {
        using var probe = new TcpListener(address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static X509Certificate2 LoadOrCreateCertificate(string dataDir)
    {
        var path = Path.Combine(dataDir, "tls.pfx");
        if (File.Exists(path))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, null);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=xcr-xapi-sim", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Parse("127.0.0.1"));
        names.AddIpAddress(IPAddress.Parse("127.0.0.2"));
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(10));
        File.WriteAllBytes(path, created.Export(X509ContentType.Pkcs12));
        return X509CertificateLoader.LoadPkcs12FromFile(path, null);
    }
}
