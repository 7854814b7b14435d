using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>Xen Orchestra's job JSON read into a job here with its ids kept (Fixtures/xo-cr-job.json is shaped like xo-server's
/// job and schedule objects); every setting that would behave differently is refused with its reason, the others that do not
/// carry over are warnings.</summary>
public sealed class XoJobImportTests
{
    private const string JobId = "4f3b2f0e-7c1a-4d8e-9b62-1a2b3c4d5e6f";
    private const string Nightly = "8a1e6c2d-3b4f-4a5e-9c7d-0e1f2a3b4c5d";
    private const string Weekly = "2b7c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e";
    private const string Sr = "c0ffee00-1234-4abc-9def-0123456789ab";
    private const string Vm = "9d5a6c1e-2b3f-4a70-8e91-0c2d4e6f8a1b";

    private static string Fixture => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "xo-cr-job.json"));

    [Fact]
    public void The_fixture_keeps_its_ids_vms_srs_schedules_retention_and_settings()
    {
        var job = XoJobImport.Read(Fixture, "alpha");
        Assert.Equal(JobId, job.Id);
        Assert.Equal("CR to DR site", job.Name);
        Assert.Equal([Vm, "1e2f3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7"], job.Vms);
        Assert.Null(job.Smart);
        Assert.Equal([Sr], job.Srs);

        // The other job's schedule is left out; the first schedule stays first (runs by hand use it).
        Assert.Equal([Nightly, Weekly], job.Schedules.Select(s => s.Id));
        var (nightly, weekly) = (job.Schedules[0], job.Schedules[1]);
        Assert.Equal(("0 2 * * *", "Europe/Paris", true, "nightly", 4, 10), (nightly.Cron, nightly.TimeZone, nightly.Enabled, nightly.Name,
            nightly.CopyRetention, nightly.FullInterval));
        Assert.Equal(("0 4 * * 0", false, "weekly full", 2, 1), (weekly.Cron, weekly.Enabled, weekly.Name, weekly.CopyRetention,
            weekly.FullInterval));

        // The health check is a schedule's setting on both sides: the weekly schedule's own, the job's for the nightly one.
        Assert.Equal((null, null, null), (nightly.HealthCheckSr, nightly.HealthCheckVmsWithTags, nightly.HealthCheckTimeout));
        Assert.Equal(("5ca1ab1e-0000-4000-8000-000000000002", "web", TimeSpan.FromMinutes(5)),
            (weekly.HealthCheckSr, string.Join(",", weekly.HealthCheckVmsWithTags!), weekly.HealthCheckTimeout));

        var s = job.Settings;
        Assert.Equal(3, s.Concurrency);
        Assert.Equal(100L << 20, s.MaxExportRate);
        Assert.Equal(2, s.Retries);
        Assert.Equal(TimeSpan.FromHours(2), s.Timeout);
        Assert.True(s.DeleteFirst);
        Assert.Equal("5ca1ab1e-0000-4000-8000-000000000001", s.HealthCheckSr);
        Assert.Equal(2, s.SnapshotRetention); // the same meaning as Xen Orchestra's: in total, the newest among them

        // What does not carry over is named; settings at their defaults (false, empty) are not.
        Assert.Contains(job.Warnings, w => w.StartsWith("reportWhen = \"failure\"", StringComparison.Ordinal));
        Assert.Contains(job.Warnings, w => w.StartsWith("timeout:", StringComparison.Ordinal));
        Assert.DoesNotContain(job.Warnings, w => w.Contains("offlineBackup", StringComparison.Ordinal)
            || w.Contains("preferNbd", StringComparison.Ordinal) || w.Contains("compression", StringComparison.Ordinal));
    }

    [Fact]
    public void A_job_with_a_schedule_map_and_a_config_export_are_read_too()
    {
        var mapped = XoJobImport.Read("""
            {"id":"j-1","type":"backup","mode":"delta","name":"cr","vms":{"id":"v"},"srs":{"id":"s"},
             "schedules":{"s-1":{"cron":"*/5 * * * *","enabled":true,"name":"five"}},
             "settings":{"s-1":{"copyRetention":3}}}
            """, "alpha");
        Assert.Equal(("j-1", "s-1", 3, "*/5 * * * *"), (mapped.Id, mapped.Schedules[0].Id, mapped.Schedules[0].CopyRetention,
            mapped.Schedules[0].Cron));
        Assert.Equal(["v"], mapped.Vms);
        Assert.Equal("UTC", mapped.Schedules[0].TimeZone);
        Assert.Contains("schedule s-1: no timezone (Xen Orchestra's server time); its cron runs in UTC here", mapped.Warnings);

        const string export = """
            {"jobs":[{"id":"a","type":"backup","mode":"delta","name":"A","vms":{"id":"v"},"srs":{"id":{"__or":["s"]}},
                      "settings":{"":{"copyRetention":2}}},
                     {"id":"b","type":"backup","mode":"delta","name":"B","vms":{"id":"w"},"srs":{"id":"s"},
                      "settings":{"":{"copyRetention":1}}},
                     {"id":"c","type":"call","method":"vm.start"}],
             "schedules":[{"id":"sa","jobId":"a","cron":"0 1 * * *"},{"id":"sb","jobId":"b","cron":"0 2 * * *"}]}
            """;
        var b = XoJobImport.Read(export, "alpha", "b");
        Assert.Equal(("B", "sb", "0 2 * * *"), (b.Name, b.Schedules.Single().Id, b.Schedules[0].Cron));
        Assert.Contains("pick one with --xo-job", Refusal(export));
    }

    [Fact]
    public void A_smart_pattern_becomes_a_smart_selection_where_it_means_the_same()
    {
        var job = XoJobImport.Read(Smart("""
            {"type":"VM","$pool":{"__or":["pool-uuid"]},"power_state":"Running",
             "tags":{"__and":[{"__or":[["web","prod"]]},{"__not":{"__or":[["test"],["old"]]}}]}}
            """), "alpha");
        Assert.Empty(job.Vms);
        var smart = job.Smart!;
        Assert.Equal(("alpha", "Running"), (smart.Pool, smart.PowerState));
        Assert.Equal(["web", "prod"], smart.Tags);
        Assert.Equal(["test", "old"], smart.ExcludedTags);
        Assert.Contains(job.Warnings, w => w.Contains("pool-uuid is taken as the source pool alpha", StringComparison.Ordinal));

        // What a smart selection here cannot say is refused with the reason.
        Assert.Contains("any of several tag sets", Refusal(Smart("""{"type":"VM","$pool":"p","tags":{"__or":[["a"],["b"]]}}""")));
        Assert.Contains("exactly one pool", Refusal(Smart("""{"type":"VM","power_state":"Running"}""")));
        Assert.Contains("exactly one pool", Refusal(Smart("""{"type":"VM","$pool":{"__or":["p","q"]}}""")));
        Assert.Contains("\"name_label\" is not supported", Refusal(Smart("""{"type":"VM","$pool":"p","name_label":"x"}""")));
        Assert.Contains("all of [a, b] at once", Refusal(Smart("""{"type":"VM","$pool":"p","tags":{"__not":{"__or":[["a","b"]]}}}""")));
    }

    [Theory]
    [InlineData("{not json", "not JSON")]
    [InlineData("[]", "expected a JSON object")]
    [InlineData("""{"id":"j","type":"backup","mode":"full","vms":{"id":"v"},"srs":{"id":"s"}}""", "only delta jobs")]
    [InlineData("""{"id":"j","mode":"delta","vms":{"id":"v"},"srs":{"id":"s"},"remotes":{"id":"r"}}""", "backs up to remotes")]
    [InlineData("""{"id":"j","mode":"delta","vms":{"id":"v"},"remotes":{"id":{"__or":[]}}}""", "no target SR")]
    [InlineData("""{"id":"j k","mode":"delta","vms":{"id":"v"},"srs":{"id":"s"}}""", "is not letters, digits and '-'")]
    [InlineData("""{"id":"j","mode":"delta","vms":{"id":"v"},"srs":{"id":"s"}}""", "schedules: none for this job")]
    public void A_job_that_is_not_a_continuous_replication_job_here_is_refused_with_the_reason(string json, string reason)
        => Assert.Contains(reason, Refusal(json));

    [Theory]
    [InlineData("""{"":{"offlineBackup":true}}""", "offlineBackup = true is not supported")]
    [InlineData("""{"":{"checkpointSnapshot":true}}""", "memory (checkpoint) snapshots")]
    [InlineData("""{"":{"copyRetention":1},"s-1":{"healthCheckTimeout":"2d"}}""", "settings[s-1]: healthCheckTimeout")]
    [InlineData("""{"":{"copyRetention":1},"s-1":{"healthCheckTimeout":"soon"}}""", "healthCheckTimeout = \"soon\"")]
    [InlineData("""{"":{"longTermRetention":{"daily":{"retention":7}}}}""", "long-term")]
    [InlineData("""{"v":{"concurrency":1}}""", "per-VM settings are not supported")]
    [InlineData("""{"s-1":{"snapshotRetention":1},"s-2":{"snapshotRetention":3}}""",
        "snapshotRetention differs between the job's schedules")]
    [InlineData("""{"s-1":{"copyRetention":1}}""", "schedule s-2 (): copyRetention 0")]
    [InlineData("""{"":{"copyRetention":1,"concurrency":"two"}}""", "concurrency = \"two\": expected a whole number")]
    [InlineData("""{"":{"copyRetention":1,"concurrency":-1}}""", "concurrency must be 0")]
    public void A_setting_that_would_behave_differently_is_refused_with_the_reason(string settings, string reason)
        => Assert.Contains(reason, Refusal($$"""
            {"id":"j","mode":"delta","vms":{"id":"v"},"srs":{"id":"s"},"settings":{{settings}},
             "schedules":[{"id":"s-1","cron":"0 1 * * *"},{"id":"s-2","cron":"0 2 * * *"}]}
            """));

    [Fact]
    public void Settings_that_change_nothing_here_are_warnings_and_unknown_ones_too()
    {
        var job = XoJobImport.Read("""
            {"id":"j","mode":"delta","vms":{"id":"v"},"srs":{"id":"s"},"proxy":"px","surprise":1,
             "settings":{"":{"copyRetention":2,"preferNbd":true,"nbdConcurrency":1,"frobnicate":true},"gone":{"copyRetention":9}},
             "schedules":[{"id":"s-1"}]}
            """, "alpha");
        Assert.Equal(2, job.Settings.CopyRetention);
        string[] expected = ["preferNbd = true: not imported, xcr reads disks through XAPI's VHD export",
            "frobnicate = true: unknown setting, not imported", "name: the job has none; named xo-j",
            "proxy: the job ran on proxy px; xcr runs it on this cluster's nodes",
            "settings[gone]: names no schedule, SR or VM of the job (a removed one's?): not imported", "surprise: unknown, not imported"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), job.Warnings.Order(StringComparer.Ordinal));
        Assert.Null(job.Schedules[0].Cron); // no cron: by hand only
    }

    [Fact]
    public void The_control_plane_refuses_an_id_another_job_uses_for_itself_or_a_schedule()
    {
        var state = new ControlState();
        foreach (var pool in new[] { "alpha", "beta" })
        {
            state = state.Apply(new PoolRegistered(new PoolRegistration(pool, "https://192.0.2.1", "root", "sealed", null, false)));
        }

        JobDefinition Job(string id, params string[] schedules) => new(id, "cr", "alpha", [Guid.NewGuid().ToString()],
            [new TargetRef("beta", Sr)], new ReplicationSettings()) { Schedules = [.. schedules.Select(s => new JobSchedule(s))] };
        var (e, reply) = state.Process(new DefineJob(Job(JobId, Nightly)));
        Assert.IsType<Done>(reply);
        state = state.Apply(e!);

        foreach (var (job, reason) in new[]
        {
            (Job(JobId, "other"), $"id: {JobId} is used by job {JobId}"),
            (Job("new-job", Nightly), $"schedule {Nightly}: used by job {JobId}"),
            (Job(Nightly, "other"), $"id: {Nightly} is used by job {JobId}"),
            (Job("another", JobId), $"schedule {JobId}: used by job {JobId}"),
        })
        {
            var (none, conflict) = state.Process(new DefineJob(job));
            Assert.Null(none);
            Assert.Equal(reason, Assert.IsType<Conflict>(conflict).Reason);
        }

        Assert.Equal($"schedule {JobId}: used by job {JobId}",
            Assert.IsType<Conflict>(state.Process(new AddSchedule(JobId, new JobSchedule(JobId))).Reply).Reason);
        Assert.StartsWith("id:", Assert.IsType<Refused>(state.Process(new DefineJob(Job("bad id", "s"))).Reply).Reason);
        Assert.StartsWith("id:", Assert.IsType<Refused>(state.Process(new DefineJob(Job(new string('a', 65), "s"))).Reply).Reason);
        Assert.StartsWith("schedule: id", Assert.IsType<Refused>(state.Process(new DefineJob(Job("fine", "bad/id"))).Reply).Reason);
        Assert.IsType<Done>(state.Process(new DefineJob(Job("fine", "also-fine"))).Reply);
    }

    private static string Smart(string vms) => $$$"""
        {"id":"j","mode":"delta","vms":{{{vms}}},"srs":{"id":"s"},"settings":{"":{"copyRetention":1}},"schedules":[{"id":"s-1"}]}
        """;

    private static string Refusal(string json) => Assert.Throws<FormatException>(() => XoJobImport.Read(json, "alpha")).Message;
}
