using System.Net;
using XcrCluster.Node;

namespace XcrCluster.Deploy.Tests;

/// <summary>The image's scripts run here: the entry point installs the shared key and token and names the node; the
/// preStop script makes a real node leave its cluster and stop; /healthz answers probes without a token.</summary>
public sealed class ImageScriptTests : WithTempDir
{

    [Fact]
    public async Task The_entry_point_installs_the_shared_key_and_token_names_the_node_and_becomes_it()
    {
        var secrets = await DeployFiles.MakeSecretsAsync(Temp.Sub("secrets"));
        var data = Temp.Sub("volume", "node");
        var seen = Temp.Sub("seen");
        // A stand-in for xcr-node on the PATH: it tells what it was started with.
        var bin = Directory.CreateDirectory(Temp.Sub("bin")).FullName;
        File.WriteAllText(Path.Combine(bin, "xcr-node"), $"#!/bin/sh\necho \"$*\" > {seen}\nenv >> {seen}\n");
        File.SetUnixFileMode(Path.Combine(bin, "xcr-node"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}",
            ["XCR_NODE_DATA"] = data,
            ["XCR_CLUSTER_KEY_FILE"] = Path.Combine(secrets, "cluster.key"),
            ["XCR_API_TOKEN_FILE"] = Path.Combine(secrets, "api-token"),
            ["HOSTNAME"] = "xcr-node-1",
        };

        var entrypoint = DeployFiles.PathOf("docker", "entrypoint.sh");
        var (code, _, stderr) = await DeployFiles.RunAsync("sh", [entrypoint, "--join-timeout", "5s"], environment);

        Assert.True(code == 0, stderr);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data));
        foreach (var (installed, source) in new[] { ("cluster.key", "cluster.key"), ("token", "api-token") })
        {
            Assert.Equal(File.ReadAllText(Path.Combine(secrets, source)), File.ReadAllText(Path.Combine(data, installed)));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, installed)));
        }

        var lines = File.ReadAllLines(seen);
        Assert.Equal("--join-timeout 5s", lines[0]);
        Assert.Contains("XCR_NODE_PUBLIC_HOSTNAME=xcr-node-1", lines);

        // A host name given is kept.
        environment["XCR_NODE_PUBLIC_HOSTNAME"] = "xcr-node-1.xcr-node";
        Assert.Equal(0, (await DeployFiles.RunAsync("sh", [entrypoint], environment)).Code);
        Assert.Contains("XCR_NODE_PUBLIC_HOSTNAME=xcr-node-1.xcr-node", File.ReadAllLines(seen));
    }

    [Fact]
    public async Task The_pre_stop_script_makes_the_node_leave_its_cluster_and_health_answers_without_a_token()
    {
        var data = Temp.Sub("node");
        var (node, url) = await ProgramProcess.StartAsync(ProgramProcess.Node, "--data", data, "--http", "127.0.0.1:0");
        using (node)
        {
            using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
            // The cluster's view of this member catches up with the ready line within moments; probes repeat.
            await Poll.UntilAsync(async () => (await http.GetAsync(HealthApi.Path)).StatusCode == HttpStatusCode.OK, "/healthz 200",
                TimeSpan.FromSeconds(10));
            Assert.Equal("ok", await http.GetStringAsync(HealthApi.Path));
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/node")).StatusCode);

            // xcr as the image has it: on the PATH.
            var bin = Directory.CreateDirectory(Temp.Sub("bin")).FullName;
            File.WriteAllText(Path.Combine(bin, "xcr"), $"#!/bin/sh\nexec dotnet {ProgramProcess.Xcr.DllPath} \"$@\"\n");
            File.SetUnixFileMode(Path.Combine(bin, "xcr"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
            var (code, stdout, stderr) = await DeployFiles.RunAsync("sh", [DeployFiles.PathOf("docker", "leave.sh")],
                new Dictionary<string, string> { ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}", ["XCR_DATA"] = data },
                seconds: 120);

            Assert.True(code == 0, $"{stdout}\n{stderr}");
            var address = NodeProcessEndpoint(data)["akka"];
            Assert.Contains($"{address}: leave", stdout);
            // Left and removed, the node stops by itself, cleanly.
            Assert.Equal(0, await node.WaitForExitAsync());
        }
    }

    private static Dictionary<string, string> NodeProcessEndpoint(string data)
        => File.ReadAllLines(Path.Combine(data, "endpoint")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
}
