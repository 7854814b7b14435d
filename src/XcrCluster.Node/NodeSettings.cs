using Akka.Configuration;

namespace XcrCluster.Node;

/// <summary>One setting as given: its option name (<c>--http</c>), its value (null for a flag on the command line) and
/// where it came from, so an error names the place to fix.</summary>
public sealed record NodeSetting(string Name, string? Value, string Source);

/// <summary>
/// Where a node's settings come from, weakest first: the <c>xcr.node</c> section of the HOCON file (<c>--config FILE</c>
/// or XCR_NODE_CONFIG, which may also hold akka.* settings), then the environment (XCR_NODE_HTTP for --http, dashes as
/// underscores), then the command line. Every option has all three spellings, so a systemd environment file, a
/// Kubernetes manifest and a shell carry the same names. Secrets (the *-password settings) are refused on the command
/// line: the process list shows it to every user of the machine.
/// </summary>
public static class NodeSettings
{
    public const string EnvironmentPrefix = "XCR_NODE_";

    public const string ConfigSection = "xcr.node";

    public const string CommandLine = "the command line";

    /// <summary>Options that take no value on the command line; elsewhere they are "true" or "false".</summary>
    public static readonly IReadOnlySet<string> Flags = new HashSet<string> { "--data-compress" };

    /// <summary>Settings named in the environment that are not options of the node: the CLI's own variables.</summary>
    private static readonly IReadOnlySet<string> NotNodeSettings = new HashSet<string> { "XCR_NODE" };

    public static List<NodeSetting> Gather(string[] args, IReadOnlyDictionary<string, string> environment)
    {
        var commandLine = FromCommandLine(args);
        var fromEnvironment = FromEnvironment(environment);
        var config = commandLine.LastOrDefault(s => s.Name == "--config") ?? fromEnvironment.LastOrDefault(s => s.Name == "--config");
        var fromFile = config?.Value is { } path && File.Exists(path) ? FromHocon(File.ReadAllText(path), path) : [];
        foreach (var secret in commandLine.Where(s => IsSecret(s.Name)))
        {
            throw new ArgumentException($"{secret.Name} is a secret and the command line shows it to every user: set "
                + $"{EnvironmentName(secret.Name)} or give {secret.Name}-file FILE");
        }

        return [.. fromFile, .. fromEnvironment, .. commandLine];
    }

    /// <summary>XCR_NODE_HTTP for --http.</summary>
    public static string EnvironmentName(string option) => EnvironmentPrefix + option[2..].Replace('-', '_').ToUpperInvariant();

    public static bool IsSecret(string option) => option.EndsWith("-password", StringComparison.Ordinal);

    public static IReadOnlyDictionary<string, string> ProcessEnvironment()
        => Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");

    private static List<NodeSetting> FromCommandLine(string[] args)
    {
        var result = new List<NodeSetting>();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument {name}; {NodeOptions.Usage}");
            }

            string? value = null;
            if (!Flags.Contains(name))
            {
                value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            }

            result.Add(new NodeSetting(name, value, CommandLine));
        }

        return result;
    }

    private static List<NodeSetting> FromEnvironment(IReadOnlyDictionary<string, string> environment)
        => [.. environment
            .Where(e => e.Key.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) && !NotNodeSettings.Contains(e.Key))
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => new NodeSetting("--" + e.Key[EnvironmentPrefix.Length..].ToLowerInvariant().Replace('_', '-'), e.Value, e.Key))];

    /// <summary>The xcr.node section's keys, as options (<c>http = "0.0.0.0:8080"</c> is --http); lists are joined with
    /// commas as on the command line.</summary>
    private static List<NodeSetting> FromHocon(string text, string path)
    {
        var config = ConfigurationFactory.ParseString(text);
        if (!config.HasPath(ConfigSection))
        {
            return [];
        }

        var section = config.GetConfig(ConfigSection);
        var result = new List<NodeSetting>();
        foreach (var (key, value) in section.Root.GetObject().Items)
        {
            var text2 = value.IsArray() ? string.Join(',', value.GetArray().Select(v => v.GetString()))
                : value.GetString();
            result.Add(new NodeSetting("--" + key, text2, $"{path} ({ConfigSection}.{key})"));
        }

        return result;
    }
}
