namespace XcrCluster.Node.Tests;

/// <summary>Where a node's settings come from (the HOCON file's xcr.node section, then XCR_NODE_* in the environment, then
/// the command line, each over the one before) and that the HTTP API, Akka remoting and the data channel each listen
/// where they are told.</summary>
public sealed class NodeSettingsTests : IDisposable
{
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "xcr-node-settings-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose() => SimHost.DeleteDataDir(dataDir);

    [Fact]
    public async Task Settings_from_the_file_the_environment_and_the_command_line_act_each_over_the_one_before()
    {
        Directory.CreateDirectory(dataDir);
        var config = Path.Combine(dataDir, "node.conf");
        await File.WriteAllTextAsync(config, """
            xcr.node {
              roles = [control, pool-alpha]
              akka = "127.0.0.2:0"
              data-channel = "127.0.0.3:0"
              ask-timeout = 7s
            }
            """);
        var environment = new Dictionary<string, string>
        {
            ["XCR_NODE_CONFIG"] = config,
            ["XCR_NODE_ROLES"] = "control,pool-beta",
            ["XCR_NODE_DATA_CHANNEL"] = "127.0.0.4:0",
        };

        using var node = await NodeProcess.StartAsync(dataDir, environment, "--data-channel", "127.0.0.5:0");

        var endpoint = NodeProcess.Endpoint(dataDir);
        Assert.Equal("127.0.0.1", node.Url.Host);
        Assert.StartsWith("akka.tcp://xcr@127.0.0.2:", endpoint["akka"]);
        Assert.StartsWith("127.0.0.5:", endpoint["data"]);
        var self = (await node.GetAsync("/api/node"))["roles"]!.AsArray().Select(r => r!.GetValue<string>());
        Assert.Equal(["control", "pool-beta"], self.Where(r => !r.StartsWith("dc-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_setting_from_the_environment_that_does_not_parse_is_refused_naming_the_variable()
    {
        var environment = new Dictionary<string, string> { ["XCR_NODE_HTTP"] = "nowhere" };
        var (code, _, stderr) = await ProgramProcess.RunToEndAsync(ProgramProcess.Node, environment, null, ["--data", dataDir]);
        Assert.Equal(2, code);
        Assert.Contains("--http nowhere: expected ADDRESS:PORT (from XCR_NODE_HTTP)", stderr);
    }
}
