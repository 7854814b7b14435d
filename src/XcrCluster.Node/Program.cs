using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.Streams;
using XcrCluster.Actors;
using XcrCluster.DataChannel;
using XcrCluster.Node;

// xcr-node: prints exactly one line on stdout ("ready URL") once the cluster is up and the HTTP endpoint
// listens; everything else goes to stderr. SIGTERM leaves the cluster and stops cleanly.
if (NodeCommands.IsCommand(args))
{
    return NodeCommands.Run(args);
}

NodeOptions options;
try
{
    options = NodeOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"xcr-node: {e.Message}");
    return 2;
}

ControlApi.AskTimeout = options.AskTimeout;

// Akka's StandardOutLogger writes to Console.Out: keep the real stdout for the ready line only.
var stdout = Console.Out;
Console.SetOut(Console.Error);
NodeFiles.PrepareDataDir(options.DataDir);
var key = ClusterKey.Load(options.DataDir);
NodeTokens.EnsureExists(options.DataDir);
var tokens = new NodeTokens(options.DataDir);
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
NodeLogging.Configure(builder.Logging, options);
var httpCertificate = options.HttpCertificate is { } certificatePath
    ? X509CertificateLoader.LoadPkcs12FromFile(certificatePath, options.HttpCertificatePassword) : null;
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(options.Http, listen =>
{
    if (httpCertificate is not null)
    {
        listen.UseHttps(httpCertificate);
    }
}));
builder.Services.AddOpenApi();
// A body that does not bind throws, so ControlApi answers 400 with the JSON path at fault instead of an empty 400.
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
var channel = new TaskCompletionSource<ChannelReceiver>(TaskCreationOptions.RunContinuationsAsynchronously);
builder.Services.AddSingleton(channel);
builder.Services.AddSingleton(options);
builder.Services.AddAkka("xcr", (akka, services) =>
{
    ActorRegistry Registry() => services.GetRequiredService<ActorRegistry>();
    var pools = new ControlPoolRegistry(() => Registry().GetAsync<ControlPlane>(), key);
    var gate = new PoolAgentGate(() => Registry().GetAsync<PoolAgents>());
    if (options.ConfigFile is { } config)
    {
        akka.AddHocon(File.ReadAllText(config), HoconAddMode.Prepend);
    }

    var (provider, connection) = options.PostgresConnection() is { } pg ? ("PostgreSQL.15", pg)
        : ("SQLite.MS", ReplicationHosting.SqliteConnection(options.DataDir));
    akka.ConfigureLoggers(loggers =>
        {
            loggers.LogLevel = Akka.Event.LogLevel.WarningLevel;
            loggers.ClearLoggers();
            loggers.AddLoggerFactory();
        })
        .WithRemoting(new RemoteOptions
        {
            HostName = options.AkkaBind.Address.ToString(), PublicHostName = options.PublicHostname, Port = options.AkkaBind.Port,
        }.Secure(options))
        .WithClustering(new ClusterOptions { Roles = [.. options.Roles], SeedNodes = [.. options.SeedNodes] })
        .WithXcrClusterDefaults()
        .WithXcrSerializer()
        .WithRunProgress()
        .WithDataChannel(options, channel)
        .WithPoolAgents(services: (system, registry) => new AgentServices(pools, () => channel.Task)
        {
            // One live mirror per pool this node serves, stopped with the node's actor system.
            Mirrors = NodeMirrors(system),
            // A source session here sends to targets on other nodes over this node's data channel transport.
            Gate = gate,
            Unseal = pools.Unseal,
            PoolAgents = () => registry.GetAsync<PoolAgents>(),
            Transport = new TcpChannelTransport(system),
            Remote = new AgentTargets(() => registry.GetAsync<PoolAgents>(), () => Cluster.Get(system).SelfAddress.ToString(), gate,
                new TcpChannelTransport(system), new ChannelSendOptions(options.DataCompress, options.DataLimits.StallTimeout)),
        })
        .AddStartup((system, _) =>
        {
            // Every XAPI request of this node names it (pools log the User-Agent): which node read or wrote what.
            var version = typeof(NodeOptions).Assembly.GetName().Version?.ToString(3);
            XcrCluster.Xapi.XapiClientOptions.ProcessUserAgent = $"xcr-node/{version} ({Cluster.Get(system).SelfAddress})";
        });
    if (options.Roles.Contains(ReplicationHosting.ControlRole))
    {
        // The executor orchestrates: each attempt runs on the node serving the source pool (its agent's source session).
        var executor = new XapiRunExecutor(pools, gate, publish: RunProgressTopic.Publisher(() => services.GetRequiredService<ActorSystem>()))
        {
            Log = services.GetRequiredService<ILoggerFactory>().CreateLogger(RunLogging.Category),
            Sources = new AgentSources(() => Registry().GetAsync<PoolAgents>(), () => services.GetRequiredService<ActorSystem>()),
        };
        akka.WithSqlPersistence(provider, options.Postgres is null ? NodeFiles.PrivateSqlite(connection) : connection)
            .WithControlPlane(ReplicationHosting.ControlRole)
            .WithScheduler(ReplicationHosting.ControlRole)
            .WithNotifier(key, ReplicationHosting.ControlRole)
            .WithReplicatedVms(executor, ReplicationHosting.ControlRole, new AgentChainReader(() => Registry().GetAsync<PoolAgents>()));
    }
    else
    {
        // A node near a pool: agents only, no journal; the books are kept on the control nodes.
        akka.WithControlPlaneProxy().WithReplicatedVmProxy().WithNotifierProxy();
    }

    if (options.SeedNodes.Count == 0)
    {
        akka.AddStartup((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress));
    }
});

var app = builder.Build();
ControlApi.Map(app, tokens, key);
app.MapOpenApi(); // the API's document at /openapi/v1.json (behind the token like everything else)
await app.StartAsync();

var system = app.Services.GetRequiredService<ActorSystem>();
var up = new TaskCompletionSource();
Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
try
{
    await up.Task.WaitAsync(options.JoinTimeout);
}
catch (TimeoutException)
{
    // Seeds unreachable, or refused (another cluster certificate): say so and stop, rather than linger half-started.
    Console.Error.WriteLine($"xcr-node: did not join the cluster within {options.JoinTimeout.TotalSeconds:0} s "
        + $"(seed nodes: {string.Join(", ", options.SeedNodes)}); see the log above");
    await app.StopAsync();
    return 1;
}
var scheme = options.HttpCertificate is null ? "http" : "https";
var url = new UriBuilder(scheme, options.HttpAdvertisedHost, new Uri(app.Urls.First()).Port).Uri.ToString().TrimEnd('/');
var dataPort = (await channel.Task.WaitAsync(TimeSpan.FromSeconds(30))).Endpoint.Port;
var data = new UriBuilder("tcp", options.DataAdvertisedHost, dataPort).Uri.Authority;
// xcr on this machine reads where the node is, and pins its HTTPS certificate, from here.
var pin = httpCertificate is null ? ""
    : $"http-fingerprint={Convert.ToHexString(SHA256.HashData(httpCertificate.RawData)).ToLowerInvariant()}\n";
PrivateFile.Write(Path.Combine(options.DataDir, "endpoint"), $"http={url}\nakka={Cluster.Get(system).SelfAddress}\ndata={data}\n{pin}");
stdout.WriteLine($"ready {url}");
stdout.Flush();
await app.WaitForShutdownAsync();
return 0;

// The agents' services are made once per actor system: their pool mirrors stop (and log out) when it terminates.
static PoolMirrors NodeMirrors(ActorSystem system)
{
    var mirrors = new PoolMirrors();
    system.RegisterOnTermination(mirrors.Dispose);
    return mirrors;
}
