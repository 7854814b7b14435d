using System.Globalization;
using System.Net;

namespace XcrCluster.Node;

public sealed partial record NodeOptions
{
    /// <summary>The options of the command line over those of the environment over those of the HOCON file.</summary>
    public static NodeOptions Parse(string[] args) => Parse(args, NodeSettings.ProcessEnvironment());

    public static NodeOptions Parse(string[] args, IReadOnlyDictionary<string, string> environment)
    {
        var options = new NodeOptions();
        foreach (var setting in NodeSettings.Gather(args, environment))
        {
            if (setting is { Name: "--postgres", Source: NodeSettings.CommandLine, Value: { } pg } && HasPassword(pg))
            {
                throw new ArgumentException("--postgres: the command line shows its password to every user of the machine: set "
                    + "XCR_NODE_POSTGRES_PASSWORD or give --postgres-password-file FILE");
            }

            try
            {
                options = options.With(setting.Name, setting.Value);
            }
            catch (ArgumentException e) when (setting.Source != NodeSettings.CommandLine)
            {
                throw new ArgumentException($"{e.Message} (from {setting.Source})");
            }
        }

        options.Validate();
        return options;
    }

    private NodeOptions With(string name, string? given)
    {
        string Value() => given ?? throw new ArgumentException($"{name} needs a value");
        string ExistingFile() => File.Exists(Value()) ? given! : throw new ArgumentException($"{name} {given}: no such file");
        return name switch
        {
            "--data" => this with { DataDir = Value() },
            "--http" => this with { Http = Endpoint(name, Value()) },
            "--http-cert" => this with { HttpCertificate = ExistingFile() },
            "--http-cert-password" => this with { HttpCertificatePassword = Value() },
            "--http-cert-password-file" => this with { HttpCertificatePassword = Secret(ExistingFile()) },
            "--akka" => this with { Akka = Endpoint(name, Value()) },
            "--port" => this with { Akka = new IPEndPoint(AkkaBind.Address, Port(name, Value())) },
            "--data-channel" => this with { DataChannel = Endpoint(name, Value()) },
            "--data-port" => this with { DataChannel = new IPEndPoint(DataBind.Address, Port(name, Value())) },
            "--public-hostname" => this with
            {
                PublicHostname = Uri.CheckHostName(Value()) != UriHostNameType.Unknown
                    ? given
                    : throw new ArgumentException($"--public-hostname {given}: not a host name or address"),
            },
            "--ask-timeout" => this with { AskTimeout = Duration(name, Value()) },
            "--join-timeout" => this with { JoinTimeout = Duration(name, Value()) },
            "--roles" => this with { Roles = List(Value()) },
            "--seed-nodes" => this with { SeedNodes = List(Value()) },
            "--config" => this with { ConfigFile = ExistingFile() },
            "--postgres" => this with { Postgres = Value() },
            "--postgres-password" => this with { PostgresPassword = Value() },
            "--postgres-password-file" => this with { PostgresPassword = Secret(ExistingFile()) },
            "--postgres-max-connections" => this with { PostgresMaxConnections = Positive(name, Value()) },
            "--cluster-cert" => this with { ClusterCertificate = ExistingFile() },
            "--cluster-cert-password" => this with { ClusterCertificatePassword = Value() },
            "--cluster-cert-password-file" => this with { ClusterCertificatePassword = Secret(ExistingFile()) },
            "--cluster-ca" => this with { ClusterCa = ExistingFile() },
            "--data-compress" => this with { DataCompress = Flag(name, given) },
            "--data-tls-cert" => this with { DataTlsCertificate = ExistingFile() },
            "--data-max-connections" => this with { DataLimits = DataLimits with { MaxConnections = Positive(name, Value()) } },
            "--data-handshake-timeout" => this with { DataLimits = DataLimits with { HandshakeTimeout = Seconds(name, Value()) } },
            "--data-stall-timeout" => this with { DataLimits = DataLimits with { StallTimeout = Seconds(name, Value()) } },
            "--data-advertise" => this with { DataAdvertise = HostPort(name, Value()) },
            "--data-ticket-lifetime" => this with { DataLimits = DataLimits with { TicketLifetime = Seconds(name, Value()) } },
            _ => throw new ArgumentException($"unknown option {name}; {Usage}"),
        };
    }

    private void Validate()
    {
        // Other nodes would be told to reach 0.0.0.0: refuse at start rather than form a cluster nobody can join.
        foreach (var (option, endpoint) in new[] { ("--http", Http), ("--akka", AkkaBind), ("--data-channel", DataBind) })
        {
            if (IsEverywhere(endpoint.Address) && PublicHostname is null)
            {
                throw new ArgumentException($"{option} {endpoint} listens on every address: give --public-hostname HOST, "
                    + "where other nodes and xcr reach this node");
            }
        }
    }

    /// <summary>The connection string the journal opens: --postgres with the password from its secret setting (a password
    /// written in --postgres itself is refused when it came from the command line) and a bounded pool.</summary>
    public string? PostgresConnection()
    {
        if (Postgres is null)
        {
            return null;
        }

        var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = Postgres };
        if (PostgresPassword is not null)
        {
            builder["Password"] = PostgresPassword;
        }

        if (!builder.ContainsKey("Maximum Pool Size") && !builder.ContainsKey("MaxPoolSize"))
        {
            builder["Maximum Pool Size"] = PostgresMaxConnections.ToString(CultureInfo.InvariantCulture);
        }

        return builder.ConnectionString;
    }

    public static bool HasPassword(string connection)
        => new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connection }.ContainsKey("Password");

    private static IPEndPoint Endpoint(string option, string value)
        => IPEndPoint.TryParse(value, out var endpoint) ? endpoint : throw new ArgumentException($"{option} {value}: expected ADDRESS:PORT");

    /// <summary>HOST:PORT where HOST is a name or an address ([::1]:PORT for IPv6).</summary>
    private static (string Host, int Port) HostPort(string option, string value)
        => Uri.TryCreate("tcp://" + value, UriKind.Absolute, out var uri) && uri.Port > 0 && uri.Host.Length > 0
            ? (uri.Host, uri.Port)
            : throw new ArgumentException($"{option} {value}: expected HOST:PORT");

    private static int Port(string option, string value)
        => int.TryParse(value, out var port) && port is >= 0 and < 65536 ? port : throw new ArgumentException($"{option}: expected 0-65535");

    private static TimeSpan Duration(string option, string value)
        => Domain.Units.ParseDuration(value) is { } t && t > TimeSpan.Zero
            ? t
            : throw new ArgumentException($"{option} {value}: expected {Domain.Units.DurationHint}");

    private static int Positive(string option, string value)
        => int.TryParse(value, out var n) && n > 0 ? n : throw new ArgumentException($"{option}: expected a positive number");

    private static bool Flag(string option, string? value) => value switch
    {
        null or "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new ArgumentException($"{option} {value}: expected true or false"),
    };

    private static IReadOnlyList<string> List(string value)
        => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A secret file's first line: what `openssl rand` or a Kubernetes secret mount leave.</summary>
    private static string Secret(string path) => File.ReadLines(path).FirstOrDefault()?.Trim() ?? "";

    /// <summary>A positive number of seconds (fractions allowed), up to a day.</summary>
    private static TimeSpan Seconds(string option, string value)
        => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= 86400
            ? TimeSpan.FromSeconds(seconds)
            : throw new ArgumentException($"{option}: expected seconds, more than 0 and at most 86400");
}
