using System.Text.RegularExpressions;
using Akka.Remote.Hosting;
using XcrCluster.Node;

namespace XcrCluster.Deploy.Tests;

/// <summary>
/// A deployment's XCR_* variables judged by what reads them: each XCR_NODE_* goes through the node's own
/// <see cref="NodeOptions.Parse(string[], IReadOnlyDictionary{string, string})"/> (an unknown name, a bad address or a
/// missing file fails), each other XCR_* must be one the image's scripts or xcr read. Paths inside the deployment
/// (/run/secrets/..., /etc/xcr/secrets/...) are replaced by the files make-secrets.sh made here.
/// </summary>
internal static class NodeEnvironment
{
    private static readonly Lazy<string> Readers = new(() => string.Join('\n',
        Directory.EnumerateFiles(Path.Combine(DeployFiles.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(DeployFiles.PathOf("docker"), "*.sh"))
            .Select(File.ReadAllText)));

    /// <summary>A variable that is no option of the node is read by a program of ours: a source file or one of the image's
    /// scripts names it (whole, so XCR_CLUSTER_KEY_FILE does not pass for XCR_CLUSTER_KEY).</summary>
    public static void AssertRead(string name)
        => Assert.True(Regex.IsMatch(Readers.Value, $@"\b{name}\b"), $"{name}: nothing reads it");

    /// <summary>XCR_NODE_NAME is an option of the node: given a value, the parser may refuse the value, not the name.</summary>
    public static void AssertOption(string name)
    {
        try
        {
            NodeOptions.Parse([], new Dictionary<string, string> { [name] = "x" });
        }
        catch (ArgumentException e)
        {
            Assert.False(e.Message.StartsWith("unknown option", StringComparison.Ordinal), $"{name}: {e.Message}");
        }
    }

    public static NodeOptions Parse(IReadOnlyDictionary<string, string> environment, Func<string, string?> localFile)
    {
        foreach (var (name, value) in environment.Where(e => e.Key.StartsWith("XCR_", StringComparison.Ordinal)))
        {
            Assert.False(NodeSettings.IsSecret("--" + name.ToLowerInvariant().Replace('_', '-')),
                $"{name}: a secret in plain sight; give it as {name}_FILE");
            if (!name.StartsWith(NodeSettings.EnvironmentPrefix, StringComparison.Ordinal))
            {
                AssertRead(name);
            }
        }

        if (environment.TryGetValue("XCR_NODE_POSTGRES", out var postgres))
        {
            Assert.False(NodeOptions.HasPassword(postgres), "XCR_NODE_POSTGRES holds a password");
        }

        var local = environment.ToDictionary(e => e.Key, e => localFile(e.Value) ?? e.Value);
        return NodeOptions.Parse([], local);
    }

    /// <summary>The secrets reached the node: the PostgreSQL password is in its connection, the cluster certificate loads
    /// with its password and holds its key (mutual TLS on remoting is on).</summary>
    public static void AssertSecretsLoad(NodeOptions options, string secrets)
    {
        var connection = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = options.PostgresConnection() };
        Assert.Equal(File.ReadAllText(Path.Combine(secrets, "postgres-password")).Trim(), connection["Password"]);
        Assert.True(new RemoteOptions().Secure(options).EnableSsl);
        Assert.Equal(Path.Combine(secrets, "cluster-cert.pfx"), options.ClusterCertificate);
    }

    /// <summary>Each seed is akka.ssl.tcp (TLS, as the cluster certificate makes remoting) at the Akka port, on a host the
    /// deployment names as a node's public host name.</summary>
    public static void AssertSeeds(NodeOptions options, IReadOnlyCollection<string> publicHostnames)
    {
        Assert.NotEmpty(options.SeedNodes);
        foreach (var seed in options.SeedNodes)
        {
            var uri = new Uri(seed);
            Assert.Equal(options.ClusterCertificate is null ? "akka.tcp" : "akka.ssl.tcp", uri.Scheme);
            Assert.Equal("xcr", uri.UserInfo);
            Assert.Equal(options.AkkaBind.Port, uri.Port);
            Assert.Contains(uri.Host, publicHostnames);
        }
    }
}
