using XcrCluster.Actors;
using XcrCluster.XapiSim;
using YamlDotNet.RepresentationModel;

namespace XcrCluster.Deploy.Tests;

/// <summary>deploy/compose/compose.yaml, merge keys applied: each node's settings are options of the node with the
/// secrets it is given, its image is the Dockerfile's node target, its ports and volume those its settings name; the
/// journal is the PostgreSQL service; the lab's simulators run commands the simulator accepts.</summary>
public sealed class ComposeTests : WithTempDir
{
    private readonly YamlMappingNode compose = Yaml.Documents(DeployFiles.Read("compose", "compose.yaml")).Single();

    private List<(string Name, YamlMappingNode Service)> Built(string target)
        => [.. compose.Entries("services").Where(s => s.Value.Get("build")?.Str("target") == target)];

    [Fact]
    public async Task Every_node_s_settings_are_options_of_the_node_with_the_secrets_it_is_given()
    {
        var secrets = await DeployFiles.MakeSecretsAsync(Temp.Sub("secrets"));
        var files = new Dictionary<string, string>();
        foreach (var (name, secret) in compose.Entries("secrets"))
        {
            var file = Path.Combine(secrets, Path.GetFileName(secret.Str("file")!));
            Assert.True(File.Exists(file), $"secret {name}: make-secrets.sh makes no {secret.Str("file")}");
            files["/run/secrets/" + name] = file;
        }

        var nodes = Built("node");
        Assert.Equal(3, nodes.Count);
        var hostnames = nodes.Select(n => n.Service.Map("environment").Scalars()["XCR_NODE_PUBLIC_HOSTNAME"]).ToList();
        Assert.Equal(nodes.Select(n => n.Name), hostnames);
        var roles = new List<string>();
        foreach (var (name, node) in nodes)
        {
            var environment = node.Map("environment").Scalars();
            foreach (var path in environment.Values.Where(v => v.StartsWith("/run/secrets/", StringComparison.Ordinal)))
            {
                Assert.True(node.Strings("secrets").Contains(path["/run/secrets/".Length..]), $"{name}: {path} is not among its secrets");
            }

            var options = NodeEnvironment.Parse(environment, v => files.GetValueOrDefault(v));
            NodeEnvironment.AssertSecretsLoad(options, secrets);
            NodeEnvironment.AssertSeeds(options, hostnames);
            ClusterKey.FromBase64(File.ReadAllText(files[environment["XCR_CLUSTER_KEY_FILE"]]));
            Assert.Equal(secrets, Path.GetDirectoryName(files[environment["XCR_API_TOKEN_FILE"]]));
            roles.AddRange(options.Roles);

            Assert.Equal(DockerfileTests.Stages[^1].Name, node.Map("build").Str("target"));
            Assert.Equal("xcr-node:dev", node.Str("image"));
            var build = node.Map("build");
            var dockerfile = Path.Combine(DeployFiles.PathOf("compose"), build.Str("context")!, build.Str("dockerfile")!);
            Assert.Equal(DeployFiles.PathOf("docker", "Dockerfile"), Path.GetFullPath(dockerfile));
            var published = node.Strings("ports").Single().Split(':');
            Assert.Equal(("127.0.0.1", options.Http.Port), (published[0], int.Parse(published[2])));
            var volume = node.Strings("volumes").Single().Split(':');
            Assert.NotNull(compose.Map("volumes").Get(volume[0]));
            Assert.Contains(volume[1], DockerfileTests.Node.Volumes);
            Assert.True(DockerfileTests.IsWithin(options.DataDir, volume[1]), $"{name}: {options.DataDir} is not in its volume");
            Assert.Equal("SIGTERM", node.Str("stop_signal"));
            Assert.Equal("service_healthy", node.Map("depends_on").Map("postgres").Str("condition"));
            AssertPostgres(options);
        }

        // Control and each pool's agent can move when a node goes: each is a role of two nodes at least.
        Assert.All(roles.GroupBy(r => r), g => Assert.True(g.Count() >= 2, $"role {g.Key} on one node only"));
        Assert.Equal(3, nodes.Select(n => n.Service.Strings("ports").Single().Split(':')[1]).Distinct().Count());
    }

    [Fact]
    public void The_lab_s_simulators_run_commands_the_simulator_accepts()
    {
        var sims = Built("sim");
        Assert.Equal(2, sims.Count);
        var entrypoint = DockerfileTests.Stages.Single(s => s.Name == "sim").Entrypoint;
        var pools = new List<string>();
        foreach (var (name, sim) in sims)
        {
            Assert.Equal(["lab"], sim.Strings("profiles"));
            var options = SimCommandLine.Parse([.. entrypoint.Skip(1), .. sim.Strings("command")]);
            Assert.Equal(options.DataDir, sim.Strings("volumes").Single().Split(':')[1]);
            pools.Add(options.PoolName);
        }

        Assert.Equal(pools.Distinct(), pools);
    }

    private void AssertPostgres(XcrCluster.Node.NodeOptions options)
    {
        var connection = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = options.Postgres };
        var postgres = compose.Map("services").Map((string)connection["Host"]);
        Assert.NotNull(postgres.Get("healthcheck"));
        var environment = postgres.Map("environment").Scalars();
        Assert.Equal(connection["Username"], environment["POSTGRES_USER"]);
        Assert.Equal(connection["Database"], environment["POSTGRES_DB"]);
        Assert.Equal("/run/secrets/postgres-password", environment["POSTGRES_PASSWORD_FILE"]);
        Assert.Contains("postgres-password", postgres.Strings("secrets"));
    }
}
