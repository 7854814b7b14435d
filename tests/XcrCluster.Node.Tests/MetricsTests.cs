using System.Globalization;
using System.Net;

namespace XcrCluster.Node.Tests;

/// <summary>GET /metrics of a node as Prometheus scrapes it: behind the bearer token, and the values move with a run (bytes per
/// pool and SR, outcomes, durations, the VM's RPO lag, the transfer in flight and the pools' slots while it goes).</summary>
public sealed class MetricsTests : TwoPoolsTest
{
    [Fact]
    public async Task The_metrics_endpoint_needs_the_token_and_its_values_move_with_a_run()
    {
        using var node = await NodeProcess.StartAsync(DataDir("xcr-metrics-"));
        using (var anonymous = new HttpClient { BaseAddress = node.Url })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        }

        var (jobId, vm, sr) = await TinyJobAsync(node);
        var before = await ScrapeAsync(node);
        Assert.Equal(0, before.GetValueOrDefault("xcr_runs_total{outcome=\"success\"}"));
        Assert.DoesNotContain(before.Keys, k => k.StartsWith("xcr_rpo_lag_seconds", StringComparison.Ordinal));
        Assert.Equal(0, before["xcr_data_channel_connections"]);

        // A slow export: the transfer and its slots are seen while it goes.
        alpha.Pool.Faults.ExportBytesPerSecond = 2L << 20;
        var runId = await node.RunAsync(jobId);
        var during = new Dictionary<string, double>();
        await Poll.UntilAsync(async () => (during = await ScrapeAsync(node))
            .GetValueOrDefault("xcr_transfers_in_flight{source_pool=\"alpha\"}") == 1, "a transfer in flight on /metrics");
        Assert.Equal(1, during["xcr_pool_slots_in_use{kind=\"transfer\",pool=\"alpha\"}"]);
        Assert.Equal(1, during["xcr_pool_slots_in_use{kind=\"transfer\",pool=\"beta\"}"]);
        alpha.Pool.Faults.Clear();
        var run = await node.AwaitRunAsync(jobId, runId);
        Assert.True(run["status"]!.GetValue<string>() == "success", NodeProcess.Describe(run));

        var after = await ScrapeAsync(node);
        var bytes = $"xcr_replicated_bytes_total{{source_pool=\"alpha\",target_pool=\"beta\",target_sr=\"{sr}\"}}";
        Assert.True(after[bytes] > 0, bytes);
        Assert.Equal(1, after["xcr_runs_total{outcome=\"success\"}"]);
        Assert.Equal(1, after["xcr_run_duration_seconds_count{outcome=\"success\"}"]);
        Assert.True(after["xcr_run_duration_seconds_sum{outcome=\"success\"}"] > 0);
        Assert.InRange(after[$"xcr_rpo_lag_seconds{{vm=\"{vm}\"}}"], 0, 600);
        Assert.Equal(0, after["xcr_transfers_in_flight{source_pool=\"alpha\"}"]);
        Assert.Equal(0, after["xcr_pool_slots_in_use{kind=\"transfer\",pool=\"alpha\"}"]);
        Assert.Equal(12, after["xcr_pool_slots_limit{kind=\"transfer\",pool=\"beta\"}"]);
        Assert.Equal(0, after["xcr_pool_slot_requests_waiting{pool=\"beta\"}"]);

        // A second run adds to the counters.
        alpha.Pool.Collector.RunOnce();
        Assert.Equal("success", (await node.AwaitRunAsync(jobId, await node.RunAsync(jobId)))["status"]!.GetValue<string>());
        var next = await ScrapeAsync(node);
        Assert.Equal(2, next["xcr_runs_total{outcome=\"success\"}"]);
        Assert.Equal(2, next["xcr_run_duration_seconds_count{outcome=\"success\"}"]);
        Assert.True(next[bytes] >= after[bytes], bytes);
        Assert.Equal(0, await node.Process.SignalAsync("TERM"));
    }

    /// <summary>One scrape: each series ("name{labels}" as printed) and its value; the metrics' types are checked on the way.</summary>
    public static async Task<Dictionary<string, double>> ScrapeAsync(NodeProcess node)
    {
        using var response = await node.Http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /metrics: {(int)response.StatusCode} {text}");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        foreach (var (name, type) in new[] { ("xcr_replicated_bytes_total", "counter"), ("xcr_runs_total", "counter"),
            ("xcr_run_duration_seconds", "histogram"), ("xcr_data_channel_connections", "gauge") })
        {
            Assert.True(!text.Contains($"# TYPE {name} ", StringComparison.Ordinal) || text.Contains($"# TYPE {name} {type}\n",
                StringComparison.Ordinal), $"{name} is not a {type}:\n{text}");
        }

        return text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(' ')).ToDictionary(
            p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
    }
}
