using System.Diagnostics;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>
/// `xcr demo`: two simulated XCP-ng pools and a one-node cluster on SQLite, as child processes in a temporary
/// directory, driven through the node's HTTP API as an operator would: pools registered, a job created for VM
/// "web01" (pool alpha to pool beta), a full run, the guest writes 8 blocks, a delta run. Byte counts come from the
/// simulators' own counters and each restore point is checked against the source snapshot it came from.
/// `--keep` leaves everything running and prints how to use xcr against it. The servers are found in runtime/ next to
/// xcr, where its build puts them (see XcrCluster.Cli.csproj).
/// </summary>
public static class Demo
{
    private const int GuestBlocks = 8;

    /// <param name="fixture">The simulated pools' shape as xcr-xapi-sim reads it (JSON, tests use small disks); null: its
    /// embedded default.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, string? fixture = null)
    {
        var keep = args.Contains("--keep");
        var dataIndex = Array.IndexOf(args, "--data");
        var dir = dataIndex >= 0 && dataIndex + 1 < args.Length ? Path.GetFullPath(args[dataIndex + 1])
            : Path.Combine(Path.GetTempPath(), "xcr-demo-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var clock = Stopwatch.StartNew();
        var children = new List<ChildProgram>();
        var ok = false;
        try
        {
            output.WriteLine($"xcr demo: data in {dir}");
            string[] fixtureArgs = fixture is null ? [] : ["--fixture", WriteFixture(dir, fixture)];
            async Task<Uri> Start(ChildProgram.Server server, string name, params string[] a)
            {
                var (child, url) = await ChildProgram.StartAsync(server, Path.Combine(dir, name + ".log"), a);
                children.Add(child);
                return url;
            }

            var sims = await Task.WhenAll(new[] { "alpha", "beta" }.Select(pool => Start(ChildProgram.Sim, "pool-" + pool,
                ["--listen", "127.0.0.1:0", "--data", Path.Combine(dir, "pool-" + pool), "--pool-name", pool, .. fixtureArgs])));
            using var http = new HttpClient();
            var (alpha, beta) = (new SimPool(http, sims[0]), new SimPool(http, sims[1]));
            output.WriteLine($"  pool alpha (source) at {alpha.Url}, pool beta (target) at {beta.Url} (xcr-xapi-sim)");
            var nodeDir = Path.Combine(dir, "node");
            var node = await Start(ChildProgram.Node, "node", "--data", nodeDir, "--http", "127.0.0.1:0");
            var token = (await File.ReadAllTextAsync(Path.Combine(nodeDir, "token"))).Trim();
            output.WriteLine($"  one-node cluster up at {node} (xcr-node, SQLite journal in {nodeDir})");

            using var client = NodeClient.Connect(node.ToString(), token);
            foreach (var (name, pool) in new[] { ("alpha", alpha), ("beta", beta) })
            {
                // The simulators' default credentials; the password travels in the request body only.
                await client.PostAsync("/api/pools", new { name, url = pool.Url.ToString(), username = "root", password = "password" });
            }

            var (vm, sr) = await LocateAsync(client);
            var job = await client.PostAsync("/api/jobs", new
            {
                name = "demo", sourcePool = "alpha", vms = new[] { vm }, targets = new[] { new { pool = "beta", sr } },
                settings = new { copyRetention = 2 },
            });
            var jobId = job["id"]!.GetValue<string>();
            output.WriteLine(
                $"  pools alpha and beta registered; job {jobId} replicates web01 ({vm}) to beta's SR {sr}, keeping 2 restore points");

            var full = await RunJobAsync(client, jobId, alpha, beta, 1, "full", output);
            await alpha.GuestWriteAsync(vm, GuestBlocks, seed: 7);
            output.WriteLine($"  the guest wrote {GuestBlocks} blocks of 2 MiB on its first disk");
            var delta = await RunJobAsync(client, jobId, alpha, beta, 2, "delta", output);

            output.WriteLine("  xcr replica list:");
            await XcrCommand.RunAsync(["replica", "list", "--node", node.ToString(), "--token", token], new IndentedWriter(output, "    "),
                output, TextReader.Null);
            ok = full && delta;
            output.WriteLine(ok
                ? $"xcr demo: done in {clock.Elapsed.TotalSeconds:F1} s — replica verified after the full and the delta run"
                : "xcr demo: FAILED");
            if (keep)
            {
                children.ForEach(c => c.Detach());
                output.WriteLine($"""
                    left running (--keep): use xcr against the node, then stop everything
                      export XCR_DATA={nodeDir}
                      xcr job list; xcr run list; xcr run show <run-id>; xcr replica list; xcr rpo; xcr cluster show
                      kill {string.Join(' ', children.Select(c => c.Pid))}; rm -rf {dir}
                    """);
            }

            return ok ? 0 : 1;
        }
        catch (Exception e) when (e is CliException or HttpRequestException or IOException)
        {
            output.WriteLine($"xcr demo: FAILED: {e.Message}");
            return 1;
        }
        finally
        {
            children.ForEach(c => c.Dispose());
            if (!keep)
            {
                Directory.Delete(dir, recursive: true);
            }
            else if (!ok)
            {
                output.WriteLine($"  files kept in {dir}");
            }
        }
    }

    private static string WriteFixture(string dir, string fixture)
    {
        var path = Path.Combine(dir, "fixture.json");
        File.WriteAllText(path, fixture);
        return path;
    }

    /// <summary>web01 on alpha (its uuid) and beta's "Local storage" SR (its uuid), from the node's live inventory.</summary>
    private static async Task<(string Vm, string Sr)> LocateAsync(NodeClient client)
    {
        var vm = (await client.GetAsync("/api/pools/alpha/vms")).AsArray()
            .First(v => v!["name"]!.GetValue<string>() == "web01")!["id"]!.GetValue<string>();
        var sr = (await client.GetAsync("/api/pools/beta/srs")).AsArray()
            .First(s => s!["name"]!.GetValue<string>() == "Local storage")!["id"]!.GetValue<string>();
        return (vm, sr);
    }

    /// <summary>Runs the job, waits for its end, prints the report and checks the restore point against the source snapshot.</summary>
    private static async Task<bool> RunJobAsync(NodeClient client, string jobId, SimPool alpha, SimPool beta, int number, string expected,
        TextWriter output)
    {
        async Task<(long Exported, long Imported)> Counters()
            => ((await alpha.BytesAsync()).Exported, (await beta.BytesAsync()).Imported);

        var before = await Counters();
        var clock = Stopwatch.StartNew();
        var runId = (await client.PostAsync($"/api/jobs/{jobId}/run", new { }))["runId"]!.GetValue<string>();
        output.WriteLine($"  run {number} ({expected} expected) started: {runId}");
        JsonNode run;
        do
        {
            await Task.Delay(250);
            run = await client.GetAsync($"/api/runs/{runId}");
        }
        while (run["vms"]!.AsArray().Any(v => v!["status"]!.GetValue<string>() is "running" or "queued"));

        var seconds = clock.Elapsed.TotalSeconds;
        var after = await Counters();
        var result = run["vms"]!.AsArray()[0]!;
        foreach (var line in result["log"]?.AsArray() ?? [])
        {
            var size = line!["size"]?.GetValue<long>() is { } bytes ? $"{bytes / 1048576.0:F1} MiB" : "";
            output.WriteLine($"    {line["name"],-40} {line["status"],-8} {size,10} {line["message"]}");
        }

        var imported = after.Imported - before.Imported;
        var status = result["status"]!.GetValue<string>();
        var full = result["full"]?.GetValue<bool>() == true;
        var rate = imported / 1e6 / Math.Max(seconds, 0.001);
        output.WriteLine($"  run {number}: {status}, {(full ? "full" : "delta")}, "
            + $"{(after.Exported - before.Exported) / 1048576.0:F1} MiB exported by alpha, {imported / 1048576.0:F1} MiB imported by beta, "
            + $"{seconds:F1} s, {rate:F1} MB/s{(result["error"] is { } e ? ": " + e : "")}");
        if (status != "success" || full != (expected == "full"))
        {
            return false;
        }

        var point = result["targets"]!.AsArray()[0]!["restorePointUuid"]!.GetValue<string>();
        var same = await alpha.ChecksumsAsync(result["sourceSnapshot"]!.GetValue<string>()) == await beta.ChecksumsAsync(point);
        output.WriteLine($"  restore point {point} {(same ? "equals" : "DIFFERS FROM")} the source snapshot");
        return same;
    }

    /// <summary>Another command's lines, indented under the demo's.</summary>
    private sealed class IndentedWriter(TextWriter inner, string indent) : StringWriter
    {
        public override void WriteLine(string? value) => inner.WriteLine(indent + value);

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }
    }
}
