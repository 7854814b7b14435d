using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Node.Tests;

/// <summary>`xcr-node` as a process: the single-node default on SQLite, its files, its control API, a full and a
/// delta run between two simulated pools, SIGTERM, and a kill -9 in the middle of a run.</summary>
public sealed class NodeTests : IAsyncLifetime
{
    private const string AlphaPassword = "alpha-Pa55-4f9e1c";
    private const string BetaPassword = "beta-Pa55-77d2aa";
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "xcr-node-test-" + Guid.NewGuid().ToString("N")[..12]);
    private SimHost alpha = null!;
    private SimHost beta = null!;

    public async Task InitializeAsync()
    {
        alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha", Password = AlphaPassword });
        beta = await SimHost.StartAsync(o => o with { PoolName = "beta", Password = BetaPassword });
    }

    public async Task DisposeAsync()
    {
        await alpha.DisposeAsync();
        await beta.DisposeAsync();
        SimHost.DeleteDataDir(dataDir);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_default_node_serves_the_control_api_replicates_full_then_delta_and_stops_on_SIGTERM()
    {
        // A data directory others can read is tightened; the database is created 0600 before SQLite writes to it.
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(dataDir);
        File.SetUnixFileMode(dataDir, ownerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead);
        using var node = await NodeProcess.StartAsync(dataDir);
        Assert.Equal([$"ready {node.Url.ToString().TrimEnd('/')}"], node.Process.Stdout);
        Assert.Equal(ownerOnly, File.GetUnixFileMode(dataDir));
        Assert.True(File.Exists(Path.Combine(dataDir, "xcr.db")));
        foreach (var file in new[] { "token", "endpoint", "cluster.key" }.Select(f => Path.Combine(dataDir, f))
            .Concat(Directory.GetFiles(dataDir, "xcr.db*")))
        {
            var mode = File.GetUnixFileMode(file);
            Assert.True(mode == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file}: {mode}");
        }

        var endpoint = File.ReadAllText(Path.Combine(dataDir, "endpoint"));
        Assert.Contains($"http={node.Url.ToString().TrimEnd('/')}", endpoint);
        Assert.Contains("akka=akka.tcp://xcr@127.0.0.1:", endpoint);

        using (var anonymous = new HttpClient { BaseAddress = node.Url })
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/pools")).StatusCode);
        }

        Assert.Contains("url", (await node.PostAsync("/api/pools", new { name = "broken" }, 400))["error"]!.GetValue<string>());
        var (jobId, vm, sr) = await DefineJobAsync(node);
        Assert.DoesNotContain(AlphaPassword, (await node.GetAsync("/api/pools")).ToJsonString());

        var full = await node.AwaitRunAsync(jobId, await node.RunAsync(jobId));
        Assert.True(full["status"]!.GetValue<string>() == "success", NodeProcess.Describe(full));
        Assert.True(full["full"]!.GetValue<bool>());
        Assert.NotEmpty(full["log"]!.AsArray());
        var vmTask = full["tasks"]!["children"]![0]!;
        Assert.Equal(["snapshot", $"export to SR {sr}"], vmTask["children"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.StartsWith("full: ", vmTask["children"]![1]!["children"]![0]!["message"]!.GetValue<string>());

        GuestWorkload.Write(alpha.Pool, vm, 0, 2, 5);
        alpha.Pool.Collector.RunOnce();
        var delta = await node.AwaitRunAsync(jobId, await node.RunAsync(jobId));
        Assert.True(delta["status"]!.GetValue<string>() == "success", NodeProcess.Describe(delta));
        Assert.False(delta["full"]!.GetValue<bool>());

        // The node named itself to both pools: every byte read from alpha and written to beta is under its User-Agent.
        var akka = NodeProcess.Endpoint(dataDir)["akka"];
        var read = alpha.Pool.Stats.ByAgent().Single(a => a.Key.StartsWith("xcr-node/", StringComparison.Ordinal));
        Assert.EndsWith($"({akka})", read.Key);
        Assert.Equal(alpha.Pool.Stats.BytesExported("/export_raw_vdi"), read.Value.Exported);
        var written = beta.Pool.Stats.ByAgent().Single(a => a.Key.StartsWith("xcr-node/", StringComparison.Ordinal));
        Assert.Equal(beta.Pool.Stats.BytesImported("/import_raw_vdi"), written.Value.Imported);

        // Both pools' agents lent their slots to the runs and got them all back.
        foreach (var pool in new[] { "alpha", "beta" })
        {
            var load = await node.GetAsync($"/api/pools/{pool}/load");
            Assert.Equal(0, load["snapshotsInUse"]!.GetValue<int>() + load["transfersInUse"]!.GetValue<int>()
                + load["waiting"]!.GetValue<int>());
        }

        var status = await node.GetAsync($"/api/vms/{vm}");
        Assert.Equal(2, status["runs"]!.AsArray().Count);
        Assert.Equal(2, status["restorePoints"]![sr]!.AsArray().Count);
        Assert.NotNull(status["rpoLagSeconds"]);

        Assert.Equal(0, await node.Process.SignalAsync("TERM"));
        AssertNoPasswordIn(node.Process.Stderr + string.Join('\n', node.Process.Stdout));
    }

    [Fact]
    public async Task A_node_killed_mid_run_records_the_run_as_interrupted_and_the_next_run_cleans_up_and_is_a_delta()
    {
        string jobId, vm, interrupted, firstRun;
        using (var node = await NodeProcess.StartAsync(dataDir))
        {
            (jobId, vm, firstRun, interrupted) = await StartSlowDeltaAsync(node);
            Assert.Equal(137, await node.Process.SignalAsync("KILL"));
        }

        beta.Pool.Faults.Clear();
        using (var node = await NodeProcess.StartAsync(dataDir))
        {
            var lost = await node.AwaitRunAsync(jobId, interrupted);
            Assert.Equal("interrupted", lost["status"]!.GetValue<string>());
            var status = await node.GetAsync($"/api/vms/{vm}");
            Assert.Equal("success", status["runs"]![0]!["status"]!.GetValue<string>());
            Assert.Equal(firstRun, status["runs"]![0]!["id"]!.GetValue<string>());
            Assert.NotNull(status["lastSuccess"]);
            Assert.NotNull(status["rpoLagSeconds"]);

            var next = await node.AwaitRunAsync(jobId, await node.RunAsync(jobId));
            Assert.True(next["status"]!.GetValue<string>() == "success", NodeProcess.Describe(next));
            Assert.False(next["full"]!.GetValue<bool>());
        }

        await AssertNoLeftoversAsync(vm);
    }

    [Fact]
    public async Task SIGTERM_mid_run_cancels_the_run_removes_what_it_made_and_exits_0()
    {
        string jobId, vm, cancelled;
        using (var node = await NodeProcess.StartAsync(dataDir))
        {
            (jobId, vm, _, cancelled) = await StartSlowDeltaAsync(node);
            Assert.Equal(0, await node.Process.SignalAsync("TERM"));
        }

        // Nothing to wait for: the objects of the cancelled run are gone before the node exits.
        beta.Pool.Faults.Clear();
        await AssertNoLeftoversAsync(vm);
        using (var node = await NodeProcess.StartAsync(dataDir))
        {
            var run = await node.AwaitRunAsync(jobId, cancelled);
            Assert.Contains(run["status"]!.GetValue<string>(), new[] { "failure", "interrupted" });
            var next = await node.AwaitRunAsync(jobId, await node.RunAsync(jobId));
            Assert.True(next["status"]!.GetValue<string>() == "success", NodeProcess.Describe(next));
            Assert.False(next["full"]!.GetValue<bool>());
        }
    }

    [Fact]
    public async Task On_PostgreSQL_the_history_survives_a_restart_and_nothing_is_written_to_SQLite()
    {
        // The server asks for a password: the node has it from a file, then from the environment, never its command line.
        const string password = "pg-Pa55-0c41e9";
        await using var postgres = await PostgresServer.StartAsync(password);
        Directory.CreateDirectory(dataDir);
        var passwordFile = Path.Combine(dataDir, "pg-password");
        await File.WriteAllTextAsync(passwordFile, password + "\n");
        string jobId, vm, first;
        using (var node = await NodeProcess.StartAsync(dataDir, "--postgres", postgres.ConnectionString,
            "--postgres-password-file", passwordFile))
        {
            Assert.DoesNotContain(password, await File.ReadAllTextAsync($"/proc/{node.Process.ProgramPid}/cmdline"));
            (jobId, vm, _) = await DefineJobAsync(node);
            first = await node.RunAsync(jobId);
            Assert.Equal("success", (await node.AwaitRunAsync(jobId, first))["status"]!.GetValue<string>());
            Assert.Equal(0, await node.Process.SignalAsync("TERM"));
        }

        Assert.False(File.Exists(Path.Combine(dataDir, "xcr.db")));
        GuestWorkload.Write(alpha.Pool, vm, 0, 2, 11);
        alpha.Pool.Collector.RunOnce();
        File.Delete(passwordFile);
        var environment = new Dictionary<string, string> { ["XCR_NODE_POSTGRES_PASSWORD"] = password };
        using (var node = await NodeProcess.StartAsync(dataDir, environment, "--postgres", postgres.ConnectionString))
        {
            // The job and the pools (credentials still sealed by the cluster key in DIR) come back from PostgreSQL.
            var delta = await node.AwaitRunAsync(jobId, await node.RunAsync(jobId));
            Assert.True(delta["status"]!.GetValue<string>() == "success", NodeProcess.Describe(delta));
            Assert.False(delta["full"]!.GetValue<bool>());
            Assert.Equal(first, (await node.GetAsync($"/api/vms/{vm}"))["runs"]![0]!["id"]!.GetValue<string>());
        }
    }

    /// <summary>A full run, then guest writes and a delta whose import is slowed to a crawl, started and seen
    /// importing (with the slots of both pools' agents taken).</summary>
    private async Task<(string JobId, string Vm, string FirstRun, string SlowRun)> StartSlowDeltaAsync(NodeProcess node)
    {
        var (jobId, vm, _) = await DefineJobAsync(node);
        var firstRun = await node.RunAsync(jobId);
        Assert.Equal("success", (await node.AwaitRunAsync(jobId, firstRun))["status"]!.GetValue<string>());

        GuestWorkload.Write(alpha.Pool, vm, 0, 4, 9);
        alpha.Pool.Collector.RunOnce();
        var importedBefore = beta.Pool.Stats.BytesImported("/import_raw_vdi");
        beta.Pool.Faults.ImportBytesPerSecond = 256 * 1024;
        var slow = await node.RunAsync(jobId);
        await Poll.UntilAsync(() => beta.Pool.Stats.BytesImported("/import_raw_vdi") > importedBefore, "the delta's import to start");

        // The disk's export holds a transfer slot of alpha's agent, its import one of beta's.
        Assert.Equal(1, (await node.GetAsync("/api/pools/alpha/load"))["transfersInUse"]!.GetValue<int>());
        Assert.Equal(1, (await node.GetAsync("/api/pools/beta/load"))["transfersInUse"]!.GetValue<int>());
        return (jobId, vm, firstRun, slow);
    }

    private async Task<(string JobId, string Vm, string Sr)> DefineJobAsync(NodeProcess node)
    {
        await node.AddPoolAsync("alpha", alpha);
        await node.AddPoolAsync("beta", beta);
        var vm = await alpha.UuidAsync("VM", "tiny01");
        var sr = await beta.UuidAsync("SR", "Local storage");
        var job = await node.PostAsync("/api/jobs", new
        {
            name = "nightly", sourcePool = "alpha", vms = new[] { vm }, targets = new[] { new { pool = "beta", sr } },
            settings = new { copyRetention = 2 },
        });
        Assert.NotNull(job["scheduleId"]);
        return (job["id"]!.GetValue<string>(), vm, sr);
    }

    /// <summary>Nothing of the interrupted run is left: no importing disk or VM on the target, no source snapshot
    /// that was never exported.</summary>
    private async Task AssertNoLeftoversAsync(string vm)
    {
        using (var rpc = beta.Json())
        {
            await rpc.LoginAsync("root", BetaPassword);
            var names = (await rpc.AllRecordsAsync("VDI")).Values.Concat((await rpc.AllRecordsAsync("VM")).Values)
                .Select(r => (string)r["name_label"]!).ToList();
            Assert.DoesNotContain(names, n => n.StartsWith("[Importing", StringComparison.Ordinal));
        }

        using var source = alpha.Json();
        await source.LoginAsync("root", AlphaPassword);
        var snapshots = (await source.AllRecordsAsync("VM"))
            .Values.Where(r => r["is_a_snapshot"] is true && (string)r["snapshot_of"]! != "OpaqueRef:NULL"
            && ((Dictionary<string, object?>)r["other_config"]!).GetValueOrDefault("xo:backup:vm") as string == vm).ToList();
        Assert.NotEmpty(snapshots);
        Assert.All(snapshots,
            s => Assert.Equal("true", ((Dictionary<string, object?>)s["other_config"]!).GetValueOrDefault("xo:backup:exported")));
    }

    private void AssertNoPasswordIn(string output)
    {
        Assert.DoesNotContain(AlphaPassword, output);
        Assert.DoesNotContain(BetaPassword, output);
        foreach (var file in Directory.GetFiles(dataDir))
        {
            var bytes = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(file));
            Assert.False(bytes.Contains(AlphaPassword, StringComparison.Ordinal) || bytes.Contains(BetaPassword, StringComparison.Ordinal),
                $"a pool password is in {file}");
        }
    }
}
