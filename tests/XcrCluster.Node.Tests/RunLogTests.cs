using System.Text.Json.Nodes;

namespace XcrCluster.Node.Tests;

/// <summary>`xcr-node --log-format json`: one JSON object per stderr line; a run's start and end each a line of category
/// XcrCluster.Runs with the same run, job and VM, its outcome, bytes and duration, and a failed run's end with the error.</summary>
public sealed class RunLogTests : TwoPoolsTest
{
    [Fact]
    public async Task A_json_logging_node_writes_one_line_per_run_start_and_end_with_its_ids_and_a_failure_with_its_error()
    {
        using var node = await NodeProcess.StartAsync(DataDir("xcr-json-log-"), "--log-format", "json");
        var (jobId, vm, _) = await TinyJobAsync(node, "logged");
        beta.Pool.Faults.SrFull = true;
        var failed = await node.RunAsync(jobId);
        Assert.Equal("failure", (await node.AwaitRunAsync(jobId, failed))["status"]!.GetValue<string>());
        beta.Pool.Faults.Clear();
        var succeeded = await node.RunAsync(jobId);
        Assert.Equal("success", (await node.AwaitRunAsync(jobId, succeeded))["status"]!.GetValue<string>());

        List<JsonNode> lines = [];
        await Poll.UntilAsync(() => (lines = RunLines(node)).Count == 4, "four run lines on stderr", TimeSpan.FromSeconds(30));
        var byEvent = lines.ToLookup(l => (l["State"]!["RunId"]!.GetValue<string>(), l["EventId"]!.GetValue<int>()));
        foreach (var line in lines)
        {
            Assert.Equal(jobId, line["State"]!["JobId"]!.GetValue<string>());
            Assert.Equal(vm, line["State"]!["VmUuid"]!.GetValue<string>());
        }

        Assert.Equal("Information", byEvent[(failed, 1)].Single()["LogLevel"]!.GetValue<string>());
        var failure = byEvent[(failed, 4)].Single();
        Assert.Equal("Warning", failure["LogLevel"]!.GetValue<string>());
        Assert.Equal("failure", failure["State"]!["Outcome"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(failure["State"]!["Error"]?.GetValue<string>()), failure.ToJsonString());

        Assert.Single(byEvent[(succeeded, 1)]);
        var end = byEvent[(succeeded, 2)].Single();
        Assert.Equal("success", end["State"]!["Outcome"]!.GetValue<string>());
        Assert.True(long.Parse(end["State"]!["Bytes"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture) > 0,
            end.ToJsonString());
        Assert.True(double.Parse(end["State"]!["DurationSeconds"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture) > 0,
            end.ToJsonString());
        Assert.Equal(0, await node.Process.SignalAsync("TERM"));
        Assert.All(node.Process.Stderr.Split('\n').Where(l => l.Length > 0), l => Assert.StartsWith("{", l, StringComparison.Ordinal));
    }

    private static List<JsonNode> RunLines(NodeProcess node)
        => [.. node.Process.Stderr.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!)
            .Where(l => l["Category"]?.GetValue<string>() == "XcrCluster.Runs")];
}
