using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Cli.Tests;

/// <summary>A Xen Orchestra job adopted: its chain made on Xen Orchestra's side (the real xo-cr-seed, with Xen Orchestra's
/// job and schedule ids) is continued by the first run here as a delta when the job keeps those ids — `xcr job create
/// --xo-job --xo-schedule`, or `xcr job import` of its JSON — and only by content key without them.</summary>
public sealed class XoJobAdoptionTests : SeedTest
{
    private readonly string xoJob = Guid.NewGuid().ToString();
    private readonly string xoSchedule = Guid.NewGuid().ToString();

    [Fact]
    public async Task A_job_created_with_xen_orchestras_ids_continues_its_chain_with_a_delta()
    {
        var (vm, sr, seed) = await XoChainAsync();
        var created = await OkAsync("job", "create", "adopted", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}",
            "--xo-job", xoJob, "--xo-schedule", xoSchedule);
        Assert.Equal($"job {xoJob}\nschedule {xoSchedule}\n", created.ReplaceLineEndings("\n"));

        GuestWorkload.Write(Alpha.Pool, vm, 0, 2, 8);
        var first = await RunAsync(xoJob);
        await AssertDeltaEqualToSourceAsync(first);
        AssertEveryDisk(first, "delta");
        Assert.Equal(seed, first["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
    }

    /// <summary>Without the ids the job's own chain is not found ("no exported snapshot of this job"); only Xen Orchestra
    /// 6.5's cross-job content-key fallback finds the seed's content, and says so on every disk.</summary>
    [Fact]
    public async Task The_same_job_without_xen_orchestras_ids_finds_the_chain_only_by_content_key()
    {
        var (vm, sr, _) = await XoChainAsync();
        var jobId = (await OkAsync("job", "create", "adopted", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}"))
            .Split('\n')[0]["job ".Length..].Trim();

        GuestWorkload.Write(Alpha.Pool, vm, 0, 2, 8);
        var first = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(first);
        AssertEveryDisk(first, how => Assert.EndsWith("by content key (no exported snapshot of this job)", how));
    }

    [Fact]
    public async Task An_imported_xen_orchestra_job_keeps_its_ids_schedules_and_settings_and_continues_with_a_delta()
    {
        var (vm, sr, seed) = await XoChainAsync();
        var file = await XoJobFileAsync(vm, sr);

        // The target SR's pool is found on the registered pools.
        var imported = await OkAsync("job", "import", file, "--pool", "alpha");
        Assert.Contains($"job {xoJob}\nschedule {xoSchedule}\n", imported.ReplaceLineEndings("\n"));
        Assert.Contains("warning: reportWhen = \"failure\": not imported", imported);

        var shown = JsonNode.Parse(await OkAsync("job", "show", xoJob, "--json"))!;
        Assert.Equal(("xo nightly CR", "alpha", 1, 3), (shown["name"]!.GetValue<string>(), shown["sourcePool"]!.GetValue<string>(),
            shown["settings"]!["concurrency"]!.GetValue<int>(), shown["settings"]!["retries"]!.GetValue<int>()));
        Assert.Equal(("beta", sr), (shown["targets"]![0]!["pool"]!.GetValue<string>(), shown["targets"]![0]!["sr"]!.GetValue<string>()));
        var schedule = shown["schedules"]![0]!;
        Assert.Equal((xoSchedule, "0 3 * * *", "Europe/Paris", false, 2), (schedule["id"]!.GetValue<string>(),
            schedule["cron"]!.GetValue<string>(), schedule["timeZone"]!.GetValue<string>(), schedule["enabled"]!.GetValue<bool>(),
            schedule["copyRetention"]!.GetValue<int>()));

        GuestWorkload.Write(Alpha.Pool, vm, 0, 2, 8);
        var first = await RunAsync(xoJob);
        await AssertDeltaEqualToSourceAsync(first);
        AssertEveryDisk(first, "delta");
        Assert.Equal(seed, first["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_used_id_is_a_conflict_bad_json_a_bad_request_an_unreadable_pool_a_bad_gateway_and_none_changes_anything()
    {
        await AddPoolsAsync();
        var (vm, sr) = (await Alpha.UuidAsync("VM", "tiny01"), await Beta.UuidAsync("SR", "Local storage"));
        var file = await XoJobFileAsync(vm, sr);
        using var http = Http();

        // A pool whose inventory cannot be read while its SRs are looked for: the import stops there, naming it. The node
        // reads the inventory from its live mirror of the pool (loaded here first: a failure while it loads is retried)
        // after a barrier, event.inject on the import's own session: that is the call that fails.
        (await http.GetAsync("/api/pools/beta/srs")).EnsureSuccessStatusCode();
        Beta.Pool.Faults.FailCall("event.inject");
        var unread = await XcrAsync("", "job", "import", file, "--pool", "alpha");
        Assert.True(unread.Code == 1 && unread.Stderr.Contains("pool beta: ", StringComparison.Ordinal)
            && unread.Stderr.Contains("INTERNAL_ERROR", StringComparison.Ordinal), unread.Stdout + unread.Stderr);
        Assert.Empty(Beta.Pool.Faults.FailCalls);
        Assert.Equal("[]", await http.GetStringAsync("/api/jobs"));

        await OkAsync("job", "import", file, "--pool", "alpha", "--target-pool", "beta");
        var before = await http.GetStringAsync("/api/jobs");

        // The same ids again, by job id or by schedule id, through the CLI and the API.
        foreach (var args in new[]
        {
            new[] { "job", "import", file, "--pool", "alpha" },
            ["job", "create", "again", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}", "--xo-job", xoJob],
            ["job", "create", "again", "--pool", "alpha", "--vm", vm, "--sr", $"beta:{sr}", "--xo-schedule", xoSchedule],
        })
        {
            var (code, stdout, stderr) = await XcrAsync("", args);
            Assert.True(code == 1, stdout + stderr);
            Assert.Contains($"used by job {xoJob}", stderr);
        }

        var body = new
        {
            name = "again", sourcePool = "alpha", vms = new[] { vm }, targets = new[] { new { pool = "beta", sr } }, id = xoJob,
        };
        var conflict = await http.PostAsJsonAsync("/api/jobs", body);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);

        foreach (var (xo, reason) in new[]
        {
            ("{\"job\": {\"id\": ", "xo job: not JSON"),
            ("{\"id\":\"j\",\"mode\":\"delta\",\"vms\":{\"id\":\"v\"},\"srs\":{\"id\":\"s\"},\"settings\":{\"\":{\"offlineBackup\":true}},"
                + "\"schedules\":[{\"id\":\"s\"}]}", "offlineBackup = true is not supported"),
            (File.ReadAllText(file).Replace(sr, Guid.Empty.ToString(), StringComparison.Ordinal)
                .Replace(xoJob, "other-job", StringComparison.Ordinal).Replace(xoSchedule, "other-schedule", StringComparison.Ordinal),
                $"SR {Guid.Empty} is on no registered pool"),
        })
        {
            var refused = await http.PostAsJsonAsync("/api/jobs/import", new { sourcePool = "alpha", xo });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains(reason, (await refused.Content.ReadFromJsonAsync<JsonNode>())!["error"]!.GetValue<string>());
        }

        var bad = Path.Combine(DataDir, "bad.json");
        await File.WriteAllTextAsync(bad, "{ nope");
        var cli = await XcrAsync("", "job", "import", bad, "--pool", "alpha");
        Assert.True(cli.Code == 1 && cli.Stderr.Contains("not JSON", StringComparison.Ordinal), cli.Stdout + cli.Stderr);
        Assert.Equal(before, await http.GetStringAsync("/api/jobs"));
    }

    /// <summary>Xen Orchestra's side of a chain: a snapshot of tiny01, its XVA imported on beta, and the real xo-cr-seed run with
    /// Xen Orchestra's job and schedule ids (no job here has them yet).</summary>
    private async Task<(string Vm, string Sr, string Seed)> XoChainAsync()
    {
        await AddPoolsAsync();
        var (vm, sr) = (await Alpha.UuidAsync("VM", "tiny01"), await Beta.UuidAsync("SR", "Local storage"));
        var snapshot = await SnapshotAsync(Alpha, vm, "xo seed");
        var seed = await ExportImportAsync(snapshot);
        await Seeds.RunXoCrSeedAsync(Alpha.Url, snapshot, Beta.Url, seed, xoJob, xoSchedule, Alpha.Pool.Options.User, Password);
        return (vm, sr, seed);
    }

    /// <summary>The job as xo-server gives it ({job, schedules}), naming Xen Orchestra's ids, written to a file.</summary>
    private async Task<string> XoJobFileAsync(string vm, string sr)
    {
        var json = new JsonObject
        {
            ["job"] = new JsonObject
            {
                ["id"] = xoJob, ["type"] = "backup", ["mode"] = "delta", ["name"] = "xo nightly CR",
                ["vms"] = new JsonObject { ["id"] = vm },
                ["srs"] = new JsonObject { ["id"] = new JsonObject { ["__or"] = new JsonArray(sr) } },
                ["remotes"] = new JsonObject { ["id"] = new JsonObject { ["__or"] = new JsonArray() } },
                ["settings"] = new JsonObject
                {
                    [""] = new JsonObject { ["concurrency"] = 1, ["nRetriesVmBackupFailures"] = 3, ["reportWhen"] = "failure" },
                    [xoSchedule] = new JsonObject { ["copyRetention"] = 2, ["fullInterval"] = 0 },
                },
            },
            ["schedules"] = new JsonArray(new JsonObject
            {
                ["id"] = xoSchedule, ["jobId"] = xoJob, ["cron"] = "0 3 * * *", ["enabled"] = false, ["name"] = "nightly",
                ["timezone"] = "Europe/Paris",
            }),
        };
        var file = Path.Combine(DataDir, "xo-job.json");
        await File.WriteAllTextAsync(file, json.ToJsonString());
        return file;
    }

    /// <summary>Every disk's transfer in the run's log says how it went (delta, or full and why).</summary>
    private static void AssertEveryDisk(JsonNode run, string how) => AssertEveryDisk(run, message => Assert.Equal(how, message));

    /// <summary>Every disk's transfer line of the run's log, its message checked.</summary>
    private static void AssertEveryDisk(JsonNode run, Action<string> check)
    {
        var transfers = run["log"]!.AsArray().Where(l => l!["name"]!.GetValue<string>().StartsWith("transfer ", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(transfers);
        Assert.All(transfers, t => check(t!["message"]!.GetValue<string>()));
    }
}
