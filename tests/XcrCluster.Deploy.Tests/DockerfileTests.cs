using System.Net;
using System.Text.RegularExpressions;
using XcrCluster.XapiSim;

namespace XcrCluster.Deploy.Tests;

/// <summary>deploy/docker/Dockerfile: the node image's settings are the node's options, it exposes the ports and keeps
/// the directory they name, it runs as a user that is not root; the build gets every file the projects read.</summary>
public sealed partial class DockerfileTests
{
    internal static List<DockerStage> Stages { get; } = Dockerfile.Stages(DeployFiles.Read("docker", "Dockerfile"));

    /// <summary>The default target, the node's image.</summary>
    internal static DockerStage Node => Stages[^1];

    /// <summary>The settings the node runs with in a container: the image's, and the host name its entry point gives.</summary>
    internal static Dictionary<string, string> ContainerEnvironment(string hostname)
        => new(Node.Env) { ["XCR_NODE_PUBLIC_HOSTNAME"] = hostname };

    [Fact]
    public void The_node_image_settings_are_options_of_the_node_and_it_exposes_and_keeps_what_they_name()
    {
        Assert.Equal("node", Node.Name);
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", Stages[0].From);
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0", Node.From);
        Assert.Equal("$APP_UID", Node.User);
        var options = NodeEnvironment.Parse(ContainerEnvironment("xcr1"), _ => null);
        Assert.Equal([options.Http.Port, options.AkkaBind.Port, options.DataBind.Port], Node.Expose);
        Assert.All([options.Http, options.AkkaBind, options.DataBind], e => Assert.Equal(IPAddress.Any, e.Address));
        Assert.Contains(Node.Volumes, v => IsWithin(options.DataDir, v));
        Assert.Equal(options.DataDir, Node.Env["XCR_DATA"]);
    }

    [Fact]
    public void The_node_image_runs_its_entry_point_and_carries_the_leave_script()
    {
        Assert.Equal(["xcr-node-entrypoint"], Node.Entrypoint);
        Assert.Equal("/usr/local/bin/xcr-node-entrypoint", Node.Copied["deploy/docker/entrypoint.sh"]);
        Assert.Equal("/usr/local/bin/xcr-node-leave", Node.Copied["deploy/docker/leave.sh"]);
        // Without the public host name the node refuses to listen on every address: the entry point must give it.
        Assert.Throws<ArgumentException>(() => XcrCluster.Node.NodeOptions.Parse([], Node.Env));
        Assert.Contains("export XCR_NODE_PUBLIC_HOSTNAME", DeployFiles.Read("docker", "entrypoint.sh"));
    }

    [Fact]
    public void The_build_copies_every_file_the_projects_read_and_leaves_secrets_out()
    {
        var copied = Stages[0].ContextSources.Select(s => s.TrimEnd('/')).ToList();
        Assert.All(Stages.SelectMany(s => s.ContextSources), s => Assert.True(Path.Exists(Path.Combine(DeployFiles.Root, s)), s));
        foreach (var project in Directory.GetFiles(Path.Combine(DeployFiles.Root, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            foreach (Match outside in OutsideSrc().Matches(File.ReadAllText(project)))
            {
                Assert.True(copied.Contains(outside.Groups[1].Value), $"{project} reads {outside.Value}, not copied into the build");
            }
        }

        Assert.Contains("Directory.Packages.props", copied);
        var ignored = DeployFiles.Read("docker", "Dockerfile.dockerignore").Split('\n');
        Assert.Contains("deploy/compose/secrets/", ignored);
        Assert.Contains("deploy/kubernetes/secrets/", ignored);
        Assert.Contains("**/bin/", ignored);
    }

    [Fact]
    public void The_simulator_image_command_parses_and_it_exposes_and_keeps_what_it_names()
    {
        var sim = Stages.Single(s => s.Name == "sim");
        var options = SimCommandLine.Parse([.. sim.Entrypoint.Skip(1), .. sim.Cmd]);
        Assert.Equal(sim.Volumes, [options.DataDir]);
        Assert.Equal(sim.Expose, options.Listen.Select(l => IPEndPoint.Parse(l).Port));
        Assert.True(options.Tls);
    }

    internal static bool IsWithin(string path, string dir)
        => path == dir || path.StartsWith(dir.TrimEnd('/') + "/", StringComparison.Ordinal);

    [GeneratedRegex(@"Include=""\.\./\.\./([^/""]+)/")]
    private static partial Regex OutsideSrc();
}
