using System.Net;
using System.Text.Json.Nodes;

namespace XcrCluster.Node.Tests;

/// <summary>How `xcr-node` starts: what it advertises when it listens on every address (or its refusal without an address
/// to advertise), bounded options, and JSON errors when the control plane cannot answer.</summary>
public sealed class StartupTests : IDisposable
{
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "xcr-node-start-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose() => SimHost.DeleteDataDir(dataDir);

    [Theory]
    [InlineData("--public-hostname", "--http", "0.0.0.0:0")]
    [InlineData("--public-hostname", "--http", "[::]:0")]
    [InlineData("--akka 0.0.0.0:0 listens on every address", "--akka", "0.0.0.0:0")]
    [InlineData("--data-channel 0.0.0.0:9 listens on every address", "--data-channel", "0.0.0.0:9")]
    [InlineData("--postgres: the command line shows its password", "--postgres", "Host=127.0.0.1;Username=xcr;Password=hunter2")]
    [InlineData("--postgres-password is a secret and the command line shows it", "--postgres-password", "hunter2")]
    [InlineData("--cluster-cert-password is a secret", "--cluster-cert-password", "hunter2")]
    [InlineData("--cluster-cert /nonexistent.pfx: no such file", "--cluster-cert", "/nonexistent.pfx")]
    [InlineData("--ask-timeout 8d: expected a duration such as 2h or 30m, at most 7d", "--ask-timeout", "8d")]
    [InlineData("--ask-timeout 99999999999h", "--ask-timeout", "99999999999h")]
    public async Task A_node_without_an_address_to_advertise_or_with_an_unbounded_option_refuses_to_start_in_one_line(string message,
        params string[] options)
    {
        var (code, stdout, stderr) = await ProgramProcess.RunToEndAsync(ProgramProcess.Node, null, null, ["--data", dataDir, .. options]);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("xcr-node: ", line);
        Assert.Contains(message, line);
    }

    [Fact]
    public async Task A_node_on_every_address_advertises_its_public_hostname()
    {
        using var node = await NodeProcess.StartAsync(dataDir, "--http", "0.0.0.0:0", "--public-hostname", "localhost");
        Assert.Equal("localhost", node.Url.Host);
        var endpoint = File.ReadAllLines(Path.Combine(dataDir, "endpoint"));
        Assert.Equal($"http=http://localhost:{node.Url.Port}", endpoint[0]);
        Assert.StartsWith("akka=akka.tcp://xcr@localhost:", endpoint[1]);
        Assert.StartsWith("data=localhost:", endpoint[2]);
        Assert.StartsWith("akka.tcp://xcr@localhost:", (await node.GetAsync("/api/cluster"))["self"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_a_control_node_a_request_is_a_503_naming_the_control_plane_in_time_and_an_unknown_route_a_json_404()
    {
        using var node = await NodeProcess.StartAsync(dataDir, "--roles", "pool-alpha", "--ask-timeout", "2s");
        foreach (var path in new[] { "/api/pools", "/api/jobs", $"/api/vms/{Guid.NewGuid()}", "/api/rpo" })
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            using var response = await node.Http.GetAsync(path);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"GET {path}: {(int)response.StatusCode} {text}");
            Assert.Equal("the control plane did not answer within 2 s (is a node with the control role up and reachable?)",
                JsonNode.Parse(text)!["error"]!.GetValue<string>());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"GET {path} took {watch.Elapsed}");
        }

        using var missing = await node.Http.GetAsync("/api/nosuch");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("404 Not Found", JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
    }
}
