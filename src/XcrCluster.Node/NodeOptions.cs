using System.Net;
using XcrCluster.Actors;
using XcrCluster.DataChannel;

namespace XcrCluster.Node;

/// <summary>`xcr-node [--config FILE] [--data DIR] [--http 127.0.0.1:PORT] [--akka ADDRESS:PORT] [--data-channel ADDRESS:PORT]
/// [--public-hostname HOST] [--roles a,b] [--seed-nodes ADDR,...] [--postgres CONNECTION] [--cluster-cert FILE.pfx] ...`,
/// each also XCR_NODE_* in the environment and xcr.node.* in the HOCON file (<see cref="NodeSettings"/>). No options: a
/// complete single-node cluster (all roles, every pool) persisting to SQLite in ~/.local/share/xcr.</summary>
public sealed partial record NodeOptions
{
    public const string Usage = "usage: xcr-node [--config FILE] [--data DIR] [--http ADDRESS:PORT] "
        + "[--http-cert FILE.pfx] [--akka ADDRESS:PORT] [--data-channel ADDRESS:PORT] [--data-advertise HOST:PORT] "
        + "[--public-hostname HOST] [--roles control,pool-NAME] [--seed-nodes ADDR,...] [--postgres CONNECTION] "
        + "[--postgres-password-file FILE] [--postgres-max-connections N] [--cluster-cert FILE.pfx] [--cluster-ca FILE.pem] "
        + "[--data-tls-cert FILE.pfx] [--data-compress] [--ask-timeout 30s] [--join-timeout 60s] "
        + "[--data-max-connections N] [--data-handshake-timeout SECONDS] [--data-ticket-lifetime SECONDS] "
        + "[--data-stall-timeout SECONDS] [--log-format text|json]; each also XCR_NODE_NAME in the environment and "
        + "xcr.node.name in the --config file; passwords (XCR_NODE_*_PASSWORD) only there or in a *-password-file; "
        + "xcr-node token rotate [--data DIR] [--keep-previous DURATION]";

    public string DataDir { get; init; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local",
        "share", "xcr");

    /// <summary>Where the HTTP API listens: loopback by default, so only this machine's users (with the token) reach it.</summary>
    public IPEndPoint Http { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>A PKCS#12 certificate: the HTTP API then speaks HTTPS only.</summary>
    public string? HttpCertificate { get; init; }

    public string? HttpCertificatePassword { get; init; }

    /// <summary>Where Akka remoting listens; its address defaults to the --http one, its port to any free one.</summary>
    public IPEndPoint? Akka { get; init; }

    /// <summary>Where the data channel listens; by default on the Akka address, any free port.</summary>
    public IPEndPoint? DataChannel { get; init; }

    /// <summary>The host other nodes and xcr reach this node at: the Akka remoting hostname, the data channel's tickets, the
    /// ready line and DIR/endpoint. Required when a listener is on every address (0.0.0.0 or [::]).</summary>
    public string? PublicHostname { get; init; }

    public IPEndPoint AkkaBind => Akka ?? new IPEndPoint(Http.Address, 0);

    public IPEndPoint DataBind => DataChannel ?? new IPEndPoint(AkkaBind.Address, 0);

    /// <summary>Where other nodes reach this node's Akka remoting and data channel: --public-hostname, else the address
    /// each listens on.</summary>
    public string AdvertisedHost => PublicHostname ?? AkkaBind.Address.ToString();

    public string DataAdvertisedHost => DataAdvertise?.Host ?? PublicHostname ?? DataBind.Address.ToString();

    /// <summary>Where senders are told to reach the data channel when it is not where it listens (a port mapping or a
    /// proxy): HOST:PORT.</summary>
    public (string Host, int Port)? DataAdvertise { get; init; }

    /// <summary>Where xcr reaches the HTTP API: its own address, or the public hostname when it listens on every one (a
    /// loopback API is not reachable at the public hostname).</summary>
    public string HttpAdvertisedHost => IsEverywhere(Http.Address) ? PublicHostname ?? "localhost" : Http.Address.ToString();

    /// <summary>How long an HTTP request waits for a cluster part before it answers 503.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the node tries to join its seed nodes before it gives up and exits 1.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>All roles by default: the control plane, the ReplicatedVm region, and every pool's agent.</summary>
    public IReadOnlyList<string> Roles { get; init; } = ["control", PoolAgentsActor.AllPoolsRole];

    public IReadOnlyList<string> SeedNodes { get; init; } = [];

    public string? ConfigFile { get; init; }

    /// <summary>A PKCS#12 certificate every node of the cluster presents and requires (mutual TLS on Akka remoting).</summary>
    public string? ClusterCertificate { get; init; }

    public string? ClusterCertificatePassword { get; init; }

    /// <summary>PEM of the CA that signs every node's cluster certificate; without it, peers must present the very
    /// certificate this node has (one cluster certificate shared by all nodes).</summary>
    public string? ClusterCa { get; init; }

    /// <summary>A PKCS#12 certificate (password in XCR_DATA_TLS_PASSWORD, if any): the data channel then speaks TLS
    /// (WAN links); senders pin its fingerprint, which travels in each transfer's ticket.</summary>
    public string? DataTlsCertificate { get; init; }

    /// <summary>LZ4 on blocks this node sends to other nodes (a slow WAN and compressible disks; it costs CPU).</summary>
    public bool DataCompress { get; init; }

    /// <summary>What the data channel grants peers before they prove who they are: connections open at once
    /// (64), seconds to say hello or finish a TLS handshake (10), seconds an issued ticket waits for its sender (600);
    /// and how long a transfer may move nothing, on either side, before it fails (60).</summary>
    public ChannelLimits DataLimits { get; init; } = new();

    /// <summary>The PostgreSQL connection without its password (<see cref="PostgresConnection"/> adds it).</summary>
    public string? Postgres { get; init; }

    /// <summary>--log-format text|json: the console's lines as text or as JSON objects (<see cref="NodeLogging"/>).</summary>
    public string LogFormat { get; init; } = "text";

    public string? PostgresPassword { get; init; }

    /// <summary>Connections this node's journal may hold open: nodes × this must stay under the server's max_connections
    /// (100 by default), which Npgsql's own default of 100 per node would exceed with two nodes.</summary>
    public int PostgresMaxConnections { get; init; } = 20;

    public static bool IsEverywhere(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
}
