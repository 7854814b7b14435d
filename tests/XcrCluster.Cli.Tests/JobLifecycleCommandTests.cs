using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>A job's life through `xcr` against a real node and two simulated pools: settings changed by name, schedules
/// added, switched and removed, deletion that keeps what the job left (orphans, purged later) or purges it, and
/// VMs chosen by a smart selection.</summary>
public sealed class JobLifecycleCommandTests : NodeAndPools
{
    [Fact]
    public async Task A_job_is_changed_and_scheduled_then_deleted_and_its_orphan_replica_purged()
    {
        await AddPoolsAsync();
        var (vm, sr) = (await Alpha.UuidAsync("VM", "tiny01"), await Beta.UuidAsync("SR", "Local storage"));
        var created = (await OkAsync("job", "create", "hourly", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}")).Split('\n');
        var (jobId, firstSchedule) = (created[0]["job ".Length..].Trim(), created[1]["schedule ".Length..].Trim());

        await OkAsync("job", "set", jobId, "copyRetention=2", "retries=1", "maxExportRate=50MiB", "timeout=2h");
        var job = JsonNode.Parse(await OkAsync("job", "show", jobId, "--json"))!;
        Assert.Equal((2, 1, 50L << 20), (job["settings"]!["copyRetention"]!.GetValue<int>(), job["settings"]!["retries"]!.GetValue<int>(), job["settings"]!["maxExportRate"]!.GetValue<long>()));
        var bad = await XcrAsync("", "job", "set", jobId, "colour=blue");
        Assert.Equal(1, bad.Code);
        Assert.Contains("colour: not a job setting", bad.Stderr);
        Assert.Contains("copyRetention must be at least 1", (await XcrAsync("", "job", "set", jobId, "copyRetention=0")).Stderr);

        var added = (await OkAsync("job", "schedule", "add", jobId, "--cron", "0 3 * * *", "--timezone", "Europe/Paris", "--retention", "7", "--force-full")).Trim();
        var nightly = added["schedule ".Length..];
        Assert.Contains($"{jobId} | hourly | alpha | 1 VMs | manual, 0 3 * * * Europe/Paris full", await OkAsync("job", "list"));
        await OkAsync("job", "schedule", "disable", jobId, nightly);
        Assert.Contains("0 3 * * * Europe/Paris (disabled) full", await OkAsync("job", "list"));
        Assert.Contains("has no cron", (await XcrAsync("", "job", "schedule", "enable", jobId, firstSchedule)).Stderr);
        await OkAsync("job", "schedule", "remove", jobId, nightly);
        Assert.Contains("keeps at least one schedule", (await XcrAsync("", "job", "schedule", "remove", jobId, firstSchedule)).Stderr);

        var run = await XcrAsync("", "job", "run", jobId, "--wait");
        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        var runId = run.Stdout.Split('\n')[0]["run ".Length..].Trim();
        Assert.Contains($"run {runId}: success", await OkAsync("run", "show", runId));
        var point = Assert.Single(JsonNode.Parse(await OkAsync("replica", "list", "--json"))!.AsArray())!["restorePoints"]![0]!.GetValue<string>();

        // Deleted without --purge: the restore point stays on beta and is listed as an orphan.
        Assert.Contains("kept on the pools", await OkAsync("job", "delete", jobId));
        Assert.Contains("no job", (await XcrAsync("", "job", "show", jobId)).Stderr);
        Assert.Contains($"{vm} | SR {sr} | {point} | orphan", await OkAsync("replica", "list"));
        Assert.Contains(await Beta.AllRecordsAsync("VM"), r => (string?)r["uuid"] == point);
        Assert.Contains($"{runId} | {jobId} | {vm} | success", await OkAsync("run", "list")); // history outlives the job

        Assert.Contains("1 restore points and 1 replica VMs removed", await OkAsync("replica", "purge", vm));
        Assert.Empty(await Beta.VmsWithAsync(Domain.XoMetadata.Sr, sr));
        Assert.Equal("Count: 0 replicas", (await OkAsync("replica", "list")).Trim());
        Assert.Contains("no restore point", (await XcrAsync("", "replica", "purge", vm)).Stderr);
    }

    [Fact]
    public async Task A_job_deleted_with_purge_leaves_nothing_on_either_pool_and_a_covered_replica_is_not_purged()
    {
        await AddPoolsAsync();
        var (vm, sr) = (await Alpha.UuidAsync("VM", "web01"), await Beta.UuidAsync("SR", "Local storage"));
        var jobId = (await OkAsync("job", "create", "web", "--pool", "alpha", "--vm", vm, "--sr", sr)).Split('\n')[0]["job ".Length..].Trim(); // the SR's pool found live
        Assert.Equal(0, (await XcrAsync("", "job", "run", jobId, "--wait")).Code);
        Assert.NotEmpty(await Alpha.VmsWithAsync(Domain.XoMetadata.Job, jobId));
        Assert.Contains("still replicated by job", (await XcrAsync("", "replica", "purge", vm)).Stderr);

        Assert.Contains("purged 1 source snapshots, 1 restore points and 1 replica VMs", await OkAsync("job", "delete", jobId, "--purge"));
        Assert.Empty(await Alpha.VmsWithAsync(Domain.XoMetadata.Job, jobId));
        Assert.Empty(await Beta.VmsWithAsync(Domain.XoMetadata.Sr, sr));
        Assert.DoesNotContain(await Beta.AllRecordsAsync("VDI"), v => v["other_config"] is Dictionary<string, object?> oc && oc.ContainsKey(Domain.XoMetadata.CopyOf));
        Assert.Equal("Count: 0 replicas", (await OkAsync("replica", "list")).Trim());
    }

    [Fact]
    public async Task A_smart_selection_picks_the_matching_vms_at_run_time_and_never_a_replica()
    {
        await AddPoolsAsync();
        var sr = await Alpha.UuidAsync("SR", "Second storage");
        var created = await XcrAsync("", "job", "create", "halted", "--pool", "alpha", "--smart", "pool=alpha,power=Halted", "--sr", $"alpha:{sr}");
        Assert.True(created.Code == 0, created.Stderr);
        var jobId = created.Stdout.Split('\n')[0]["job ".Length..].Trim();
        var first = await XcrAsync("", "job", "run", jobId, "--wait");
        Assert.True(first.Code == 0, first.Stdout + first.Stderr);
        var db01 = await Alpha.UuidAsync("VM", "db01");
        Assert.Contains($"{db01} | success | full", first.Stdout);
        Assert.Equal(2, first.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // the run line and db01 only

        // The replica on the same pool is halted too, but replication made it: the next run is db01 alone again, a delta.
        var second = await XcrAsync("", "job", "run", jobId, "--wait");
        Assert.Contains($"{db01} | success | delta", second.Stdout);
        Assert.Equal(2, second.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var replica = Assert.Single(JsonNode.Parse(await OkAsync("replica", "list", "--json"))!.AsArray())!;
        Assert.False(replica["orphan"]!.GetValue<bool>()); // a smart job covers what its runs picked
        Assert.Contains("still replicated by job", (await XcrAsync("", "replica", "purge", db01)).Stderr);

        var bad = await XcrAsync("", "job", "create", "x", "--pool", "alpha", "--smart", "pool=alpha,power=Sleeping", "--sr", $"alpha:{sr}");
        Assert.Equal(1, bad.Code);
        Assert.Contains("smart: \"power=Sleeping\": power is one of", bad.Stderr);
        Assert.Contains("vms: one or more VM uuids, or a smart selection", (await XcrAsync("", "job", "create", "x", "--pool", "alpha", "--sr", $"alpha:{sr}")).Stderr);
    }
}
