namespace XcrCluster.Node.Tests;

/// <summary>The RPO gauges on /metrics of the node that evaluates: every VM of every job, a job never run included (its target
/// from its cron, not late yet, no lag), and a job with an RPO target whose VM the scheduler replicates by itself.</summary>
public sealed class RpoMetricsTests : TwoPoolsTest
{
    [Fact]
    public async Task Every_vm_of_every_job_has_its_target_and_violation_and_a_replicated_one_its_lag()
    {
        using var node = await NodeProcess.StartAsync(DataDir("xcr-rpo-metrics-"));
        await node.AddPoolAsync("alpha", alpha);
        await node.AddPoolAsync("beta", beta);
        var (vm, sr) = (await alpha.UuidAsync("VM", "tiny01"), await beta.UuidAsync("SR", "Local storage"));
        async Task<string> JobAsync(string name, object? schedule, string? rpo) => (await node.PostAsync("/api/jobs",
            new { name, sourcePool = "alpha", vms = new[] { vm }, targets = new[] { new { pool = "beta", sr } }, schedule, rpo }))["id"]!
            .GetValue<string>();
        var nightly = await JobAsync("nightly", new { cron = "0 3 * * *" }, null);
        var fast = await JobAsync("fast", null, "00:00:10");

        string Series(string name, string job) => $"{name}{{job=\"{job}\",vm=\"{vm}\"}}";
        var scrape = new Dictionary<string, double>();
        await Poll.UntilAsync(async () => (scrape = await MetricsTests.ScrapeAsync(node))
            .ContainsKey(Series("xcr_rpo_job_lag_seconds", fast)), "the lag of the VM the scheduler replicated for its RPO target");
        Assert.Equal(10, scrape[Series("xcr_rpo_target_seconds", fast)]);
        Assert.InRange(scrape[Series("xcr_rpo_job_lag_seconds", fast)], 0, 600);
        Assert.Equal(2 * 86400, scrape[Series("xcr_rpo_target_seconds", nightly)]);
        Assert.Equal(0, scrape[Series("xcr_rpo_violated", nightly)]);
        Assert.False(scrape.ContainsKey(Series("xcr_rpo_job_lag_seconds", nightly)), "a job never run has no restore point");
        Assert.Equal(0, await node.Process.SignalAsync("TERM"));
    }
}
