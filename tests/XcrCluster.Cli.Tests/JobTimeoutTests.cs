namespace XcrCluster.Cli.Tests;

/// <summary>The job's `timeout` setting acts (issue 15: every setting has a test that fails if it is ignored): a run still going
/// when it expires is cancelled and cleaned up, both pools as before, and the next run is not hindered.</summary>
public sealed class JobTimeoutTests : RecoveryTest
{
    [Fact]
    public async Task A_run_past_the_job_timeout_is_cancelled_and_leaves_both_pools_as_they_were()
    {
        var (jobId, _, _) = await JobAsync("tiny01", "timeout=3s");
        var (alpha, beta) = (await InventoryAsync(Alpha), await InventoryAsync(Beta));

        // The disk's blocks would take an hour at this rate: only the timeout ends the run.
        Alpha.Pool.Faults.ExportBytesPerSecond = 64 << 10;
        var run = await XcrAsync("", "job", "run", jobId, "--wait").WaitAsync(TimeSpan.FromMinutes(3));
        Alpha.Pool.Faults.Clear();
        Assert.True(run.Code == 1, run.Stdout + run.Stderr);
        Assert.Contains("cancelled (timeout", run.Stdout + run.Stderr);
        await Poll.UntilAsync(async () => await InventoryAsync(Alpha) == alpha && await InventoryAsync(Beta) == beta,
            "the cancelled run's snapshot and target objects removed", TimeSpan.FromSeconds(60));

        await OkAsync("job", "set", jobId, "timeout=0");
        var next = await RunAsync(jobId);
        Assert.True(next["status"]!.GetValue<string>() == "success", next.ToJsonString());
    }
}
