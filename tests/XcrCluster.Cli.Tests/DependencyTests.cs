using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr` is a client of the node's HTTP API over the domain: what it ships (its deps.json, the files next
/// to it) holds neither Akka, the SQL drivers, nor the node; the demo's servers live apart in runtime/.</summary>
public sealed class DependencyTests
{
    /// <summary>Packages that belong to the node, not to the command tool.</summary>
    private static readonly string[] NodeOnly = ["Akka", "Npgsql", "Microsoft.Data.Sqlite", "SQLitePCLRaw", "linq2db", "xcr-node"];

    private static string XcrDir => Path.GetDirectoryName(ProgramProcess.Xcr.DllPath)!;

    [Fact]
    public void Xcr_deps_json_names_no_akka_no_sql_driver_and_of_our_assemblies_the_domain_only()
    {
        var deps = JsonNode.Parse(File.ReadAllText(Path.Combine(XcrDir, "xcr.deps.json")))!;
        var libraries = deps["libraries"]!.AsObject().Select(l => l.Key.Split('/')[0]).ToList();
        Assert.Contains("XcrCluster.Domain", libraries);
        Assert.DoesNotContain(libraries, l => NodeOnly.Any(n => l.StartsWith(n, StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(["XcrCluster.Domain"], libraries.Where(l => l.StartsWith("XcrCluster.", StringComparison.Ordinal)));
    }

    [Fact]
    public void No_assembly_of_the_node_lies_next_to_xcr_but_the_demo_finds_its_servers_in_runtime()
    {
        var next = Directory.EnumerateFiles(XcrDir, "*.dll").Select(Path.GetFileName).ToList();
        Assert.Contains("xcr.dll", next);
        Assert.DoesNotContain(next,
            f => NodeOnly.Any(n => f!.StartsWith(n, StringComparison.OrdinalIgnoreCase)) || f == "xcr-xapi-sim.dll");
        Assert.True(File.Exists(Path.Combine(XcrDir, "runtime", "node", "xcr-node.dll")), "xcr-node in runtime/node");
        Assert.True(File.Exists(Path.Combine(XcrDir, "runtime", "sim", "xcr-xapi-sim.dll")), "xcr-xapi-sim in runtime/sim");
    }
}
