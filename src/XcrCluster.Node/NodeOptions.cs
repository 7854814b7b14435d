using System.Net;
using XcrCluster.Actors;
using XcrCluster.DataChannel;

namespace XcrCluster.Node;

/// <summary>`xcr-node [--config FILE] [--data DIR] [--http 127.0.0.1:PORT] [--public-hostname HOST] [--port AKKA_PORT]
/// [--roles a,b] [--seed-nodes akka.tcp://xcr@h:p,...] [--postgres CONNECTION] [--ask-timeout 30s] ...`. No options: a
/// complete single-node cluster (all roles, every pool) persisting to SQLite in ~/.local/share/xcr.</summary>
public sealed record NodeOptions
{
    public const string Usage = "usage: xcr-node [--config FILE] [--data DIR] [--http 127.0.0.1:PORT] [--public-hostname HOST] "
        + "[--port AKKA_PORT] [--data-port PORT] [--roles control,pool-NAME] [--seed-nodes ADDR,...] [--postgres CONNECTION] "
        + "[--data-tls-cert FILE.pfx] [--data-compress] [--ask-timeout 30s] "
        + "[--data-max-connections N] [--data-handshake-timeout SECONDS] [--data-ticket-lifetime SECONDS]";

    public string DataDir { get; init; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local",
        "share", "xcr");

    public IPEndPoint Http { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>The host other nodes and xcr reach this node at: the Akka remoting hostname, the data channel's tickets, the
    /// ready line and DIR/endpoint. Required when --http listens on every address (0.0.0.0 or [::]).</summary>
    public string? PublicHostname { get; init; }

    /// <summary>--http is 0.0.0.0 or [::]: every address of the machine.</summary>
    public bool ListensEverywhere => Http.Address.Equals(IPAddress.Any) || Http.Address.Equals(IPAddress.IPv6Any);

    /// <summary>What this node advertises: --public-hostname, else the --http address.</summary>
    public string AdvertisedHost => PublicHostname ?? Http.Address.ToString();

    /// <summary>How long an HTTP request waits for a cluster part before it answers 503.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public int AkkaPort { get; init; }

    /// <summary>The data channel's port (blocks of transfers from other nodes); 0 = any free one.</summary>
    public int DataPort { get; init; }

    /// <summary>All roles by default: the control plane, the ReplicatedVm region, and every pool's agent.</summary>
    public IReadOnlyList<string> Roles { get; init; } = ["control", PoolAgentsActor.AllPoolsRole];

    public IReadOnlyList<string> SeedNodes { get; init; } = [];

    public string? ConfigFile { get; init; }

    /// <summary>A PKCS#12 certificate (password in XCR_DATA_TLS_PASSWORD, if any): the data channel then speaks TLS
    /// (WAN links); senders pin its fingerprint, which travels in each transfer's ticket.</summary>
    public string? DataTlsCertificate { get; init; }

    /// <summary>LZ4 on blocks this node sends to other nodes (a slow WAN and compressible disks; it costs CPU).</summary>
    public bool DataCompress { get; init; }

    /// <summary>What the data channel grants peers before they prove who they are: connections open at once
    /// (64), seconds to say hello or finish a TLS handshake (10), seconds an issued ticket waits for its sender (600).</summary>
    public ChannelLimits DataLimits { get; init; } = new();

    public string? Postgres { get; init; }

    /// <summary>--log-format text|json (env XCR_NODE_LOG_FORMAT): the console's lines as text or JSON objects (NodeLogging).</summary>
    public string LogFormat { get; init; } = NodeLogging.Format(Environment.GetEnvironmentVariable(NodeLogging.FormatVariable),
        NodeLogging.FormatVariable);

    public static NodeOptions Parse(string[] args)
    {
        var options = new NodeOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--data" => options with { DataDir = Value() },
                "--http" => options with { Http = IPEndPoint.TryParse(Value(), out var http) ? http
                    : throw new ArgumentException($"--http {args[i]}: expected ADDRESS:PORT") },
                "--public-hostname" => options with
                {
                    PublicHostname = Uri.CheckHostName(Value()) != UriHostNameType.Unknown
                        ? args[i]
                        : throw new ArgumentException($"--public-hostname {args[i]}: not a host name or address"),
                },
                "--ask-timeout" => options with
                {
                    AskTimeout = Domain.Units.ParseDuration(Value()) is { } t && t > TimeSpan.Zero
                        ? t
                        : throw new ArgumentException($"--ask-timeout {args[i]}: expected {Domain.Units.DurationHint}"),
                },
                "--port" => options with { AkkaPort = int.TryParse(Value(), out var port) && port is >= 0 and < 65536 ? port
                    : throw new ArgumentException("--port: expected 0-65535") },
                "--data-port" => options with { DataPort = int.TryParse(Value(), out var data) && data is >= 0 and < 65536 ? data
                    : throw new ArgumentException("--data-port: expected 0-65535") },
                "--roles" =>
                    options with { Roles = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--seed-nodes" =>
                    options with { SeedNodes = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--config" => options with { ConfigFile = File.Exists(Value()) ? args[i]
                    : throw new ArgumentException($"--config {args[i]}: no such file") },
                "--postgres" => options with { Postgres = Value() },
                "--data-compress" => options with { DataCompress = true },
                "--log-format" => options with { LogFormat = NodeLogging.Format(Value(), args[i]) },
                "--data-tls-cert" => options with { DataTlsCertificate = File.Exists(Value()) ? args[i]
                    : throw new ArgumentException($"--data-tls-cert {args[i]}: no such file") },
                "--data-max-connections" => options with
                {
                    DataLimits = options.DataLimits with
                    {
                        MaxConnections = int.TryParse(Value(), out var max) && max > 0
                            ? max
                            : throw new ArgumentException("--data-max-connections: expected a positive number"),
                    },
                },
                "--data-handshake-timeout" => options with
                {
                    DataLimits = options.DataLimits with { HandshakeTimeout = Seconds(args[i], Value()) },
                },
                "--data-ticket-lifetime" =>
                    options with { DataLimits = options.DataLimits with { TicketLifetime = Seconds(args[i], Value()) } },
                _ => throw new ArgumentException($"unknown option {args[i]}; {Usage}"),
            };
        }

        // Other nodes would be told to reach 0.0.0.0: refuse at start rather than form a cluster nobody can join.
        if (options.ListensEverywhere && options.PublicHostname is null)
        {
            throw new ArgumentException(
                $"--http {options.Http} listens on every address: give --public-hostname HOST, where other nodes and xcr reach this node");
        }

        return options;
    }

    /// <summary>A positive number of seconds (fractions allowed), up to a day.</summary>
    private static TimeSpan Seconds(string option, string value)
        => double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture,
                out var seconds) && seconds is > 0 and <= 86400
            ? TimeSpan.FromSeconds(seconds)
            : throw new ArgumentException($"{option}: expected seconds, more than 0 and at most 86400");
}
