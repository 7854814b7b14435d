using System.Text.RegularExpressions;
using XcrCluster.Node;
using YamlDotNet.RepresentationModel;

namespace XcrCluster.Deploy.Tests;

/// <summary>deploy/kubernetes built as `kubectl kustomize` builds it (<see cref="Kustomize"/>) with the secrets make-secrets.sh makes: each
/// replica's settings are options of the node with the Secret's files, its host name is its stable DNS name under the
/// headless Service, the seeds are replicas, ports, volume and image agree with the Dockerfile and compose, the preStop
/// hook is the image's leave script, readiness is GET /healthz.</summary>
public sealed class KubernetesTests : WithTempDir
{

    private async Task<(List<YamlMappingNode> Resources, string Secrets)> BuildAsync()
    {
        var dir = Temp.Sub("kubernetes");
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(DeployFiles.PathOf("kubernetes"), "*.yaml"))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }

        var secrets = await DeployFiles.MakeSecretsAsync(Path.Combine(dir, "secrets"));
        return (await Kustomize.BuildAsync(dir), secrets);
    }

    [Fact]
    public async Task The_build_done_here_without_kubectl_gives_what_kubectl_gives()
    {
        var (resources, _) = await BuildAsync();
        var here = Kustomize.BuildHere(Temp.Sub("kubernetes"));
        // kubectl suffixes the generated Secret's name with a hash of its content.
        static List<string> Names(List<YamlMappingNode> rs) => [.. rs.Select(r => $"{r.Str("kind")}/{r.Map("metadata").Str("namespace")}/"
            + Regex.Replace(r.Map("metadata").Str("name")!, "^(xcr-secrets)-[a-z0-9]{10}$", "$1")).Order()];
        Assert.Equal(Names(resources), Names(here));
        static YamlNode Env(List<YamlMappingNode> rs)
            => Find(rs, "StatefulSet", "xcr-node").Map("spec").Map("template").Map("spec").Seq("containers").Single().Get("env")!;
        Assert.Equal(Env(resources), Env(here));
    }

    private static YamlMappingNode Find(List<YamlMappingNode> resources, string kind, string? name = null)
        => resources.Single(r => r.Str("kind") == kind && (name is null || r.Map("metadata").Str("name") == name));

    [Fact]
    public async Task Every_replica_s_settings_are_options_of_the_node_with_the_secret_s_files_and_its_stable_name()
    {
        var (resources, secrets) = await BuildAsync();
        Assert.All(resources.Where(r => r.Str("kind") != "Namespace"), r => Assert.Equal("xcr", r.Map("metadata").Str("namespace")));
        var set = Find(resources, "StatefulSet", "xcr-node");
        var replicas = int.Parse(set.Map("spec").Str("replicas")!);
        Assert.Equal(3, replicas);
        var serviceName = set.Map("spec").Str("serviceName")!;
        var headless = Find(resources, "Service", serviceName).Map("spec");
        Assert.Equal(("None", "true"), (headless.Str("clusterIP"), headless.Str("publishNotReadyAddresses")));
        var pod = set.Map("spec").Map("template").Map("spec");
        var container = (YamlMappingNode)pod.Seq("containers").Single();

        // The Secret's files, where the pod mounts them.
        var secret = Find(resources, "Secret");
        var secretVolume = pod.Seq("volumes").Single(v => v.Get("secret") is not null);
        Assert.Equal(secret.Map("metadata").Str("name"), secretVolume.Map("secret").Str("secretName"));
        var mount = container.Seq("volumeMounts").Single(m => m.Str("name") == secretVolume.Str("name")).Str("mountPath")!;
        var files = ((YamlMappingNode)secret.Get("data")!).Children.Keys.Cast<YamlScalarNode>()
            .ToDictionary(k => $"{mount}/{k.Value}", k => Path.Combine(secrets, k.Value!));

        var env = container.Seq("env").ToList();
        var environment = env.Where(e => e.Get("value") is not null).ToDictionary(e => e.Str("name")!, e => e.Str("value")!);
        var podName = env.Single(e => e.Str("name") == "POD_NAME").Map("valueFrom").Map("fieldRef");
        Assert.Equal("metadata.name", podName.Str("fieldPath"));
        var hostnames = Enumerable.Range(0, replicas).Select(i => $"xcr-node-{i}.{serviceName}").ToList();
        foreach (var hostname in hostnames)
        {
            var name = hostname.Split('.')[0];
            var replica = environment.ToDictionary(e => e.Key, e => e.Value.Replace("$(POD_NAME)", name, StringComparison.Ordinal));
            foreach (var path in replica.Values.Where(v => v.StartsWith(mount + "/", StringComparison.Ordinal)))
            {
                Assert.True(files.ContainsKey(path), $"{path}: no such key in the Secret");
            }

            var options = NodeEnvironment.Parse(replica, v => files.GetValueOrDefault(v));
            Assert.Equal(hostname, options.PublicHostname);
            NodeEnvironment.AssertSecretsLoad(options, secrets);
            NodeEnvironment.AssertSeeds(options, hostnames);
            AssertPorts(options, container, headless);
            AssertDataVolume(options, set, container, environment);
            AssertPostgres(options, resources);
        }
    }

    [Fact]
    public async Task Replicas_leave_the_cluster_before_they_stop_and_are_ready_when_up()
    {
        var (resources, _) = await BuildAsync();
        var set = Find(resources, "StatefulSet", "xcr-node");
        var pod = set.Map("spec").Map("template").Map("spec");
        var container = (YamlMappingNode)pod.Seq("containers").Single();
        Assert.Equal("xcr-node:dev", container.Str("image"));
        var preStop = container.Map("lifecycle").Map("preStop").Map("exec").Strings("command");
        Assert.Equal([Path.GetFileName(DockerfileTests.Node.Copied["deploy/docker/leave.sh"])], preStop);
        Assert.True(int.Parse(pod.Str("terminationGracePeriodSeconds")!) >= 300, "the grace period must cover a leave and a clean stop");
        var readiness = container.Map("readinessProbe").Map("httpGet");
        Assert.Equal((HealthApi.Path, "http"), (readiness.Str("path"), readiness.Str("port")));
        Assert.NotNull(container.Get("livenessProbe"));
        var requests = container.Map("resources").Map("requests");
        Assert.NotNull(requests.Str("cpu"));
        Assert.NotNull(requests.Str("memory"));
        // The image's user (app, uid 1654) owns what the pod writes, and may read the Secret's files (group fsGroup).
        var security = pod.Map("securityContext");
        Assert.Equal(("true", "1654", "1654"), (security.Str("runAsNonRoot"), security.Str("runAsUser"), security.Str("fsGroup")));
        Assert.Equal("xcr-node", Find(resources, "Service", "xcr-api").Map("spec").Map("selector").Str("app.kubernetes.io/name"));
        Assert.NotNull(Find(resources, "PodDisruptionBudget"));
    }

    private static void AssertPorts(NodeOptions options, YamlMappingNode container, YamlMappingNode headless)
    {
        var ports = container.Seq("ports").ToDictionary(p => p.Str("name")!, p => int.Parse(p.Str("containerPort")!));
        var expected = new Dictionary<string, int>
        {
            ["http"] = options.Http.Port, ["akka"] = options.AkkaBind.Port, ["data"] = options.DataBind.Port,
        };
        Assert.Equal(expected, ports);
        Assert.Equal(DockerfileTests.Node.Expose, ports.Values);
        Assert.All(headless.Seq("ports"), p => Assert.Equal(ports[p.Str("targetPort")!], int.Parse(p.Str("port")!)));
    }

    private static void AssertDataVolume(NodeOptions options, YamlMappingNode set, YamlMappingNode container,
        Dictionary<string, string> environment)
    {
        var claim = ((YamlMappingNode)set.Map("spec").Seq("volumeClaimTemplates").Single()).Map("metadata").Str("name");
        var mountPath = container.Seq("volumeMounts").Single(m => m.Str("name") == claim).Str("mountPath")!;
        Assert.Contains(mountPath, DockerfileTests.Node.Volumes);
        Assert.True(DockerfileTests.IsWithin(options.DataDir, mountPath), $"{options.DataDir} is not in the volume {mountPath}");
        // The preStop hook reads the node's endpoint there.
        Assert.Equal(options.DataDir, environment["XCR_DATA"]);
    }

    private static void AssertPostgres(NodeOptions options, List<YamlMappingNode> resources)
    {
        var connection = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = options.Postgres };
        Assert.Equal("5432", Find(resources, "Service", (string)connection["Host"]).Map("spec").Seq("ports").Single().Str("port"));
        var postgres = (YamlMappingNode)Find(resources, "StatefulSet", (string)connection["Host"]).Map("spec").Map("template").Map("spec")
            .Seq("containers").Single();
        var environment = postgres.Seq("env").ToDictionary(e => e.Str("name")!, e => e.Str("value")!);
        Assert.Equal(connection["Username"], environment["POSTGRES_USER"]);
        Assert.Equal(connection["Database"], environment["POSTGRES_DB"]);
        Assert.Equal("/etc/xcr/secrets/postgres-password", environment["POSTGRES_PASSWORD_FILE"]);
    }
}
