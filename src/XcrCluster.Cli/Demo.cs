using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XcrCluster.Actors;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Http;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Cli;

/// <summary>
/// `xcr demo`: two simulated XCP-ng pools on loopback, a one-node cluster persisting to SQLite, and VM
/// "web01" replicated from pool alpha to pool beta — a full run, then the guest writes a few blocks and a
/// delta run sends only those. Byte counts come from the simulators' own counters; the restore points are
/// checked against the source snapshots.
/// </summary>
public static class Demo
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, Fixture? fixture = null)
    {
        var keep = args.Contains("--keep");
        var dataIndex = Array.IndexOf(args, "--data");
        var dir = dataIndex >= 0 && dataIndex + 1 < args.Length ? args[dataIndex + 1] : Path.Combine(Path.GetTempPath(), "xcr-demo-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var clock = Stopwatch.StartNew();
        try
        {
            output.WriteLine($"xcr demo: data in {dir}");
            await using var alpha = await SimServer.StartAsync(new SimOptions { DataDir = Path.Combine(dir, "pool-alpha"), PoolName = "alpha", Fixture = fixture });
            await using var beta = await SimServer.StartAsync(new SimOptions { DataDir = Path.Combine(dir, "pool-beta"), PoolName = "beta", Fixture = fixture });
            output.WriteLine($"  pool alpha (source) at {alpha.Url}, pool beta (target) at {beta.Url}");

            var pools = new StaticPoolRegistry(new Dictionary<string, XapiEndpoint>
            {
                ["alpha"] = XapiEndpoint.Parse($"http://root:password@{alpha.Url.Authority}"),
                ["beta"] = XapiEndpoint.Parse($"http://root:password@{beta.Url.Authority}"),
            });
            using var node = await StartNodeAsync(Path.Combine(dir, "node"), pools);
            output.WriteLine("  one-node cluster up (SQLite journal)");
            var region = await node.Services.GetRequiredService<ActorRegistry>().GetAsync<ReplicatedVmRegion>();

            var (vm, sr) = await LocateAsync(alpha, beta);
            var job = new JobRef(Guid.NewGuid().ToString(), "demo", Guid.NewGuid().ToString(), "every 5 minutes");
            ReplicateVm Request() => new(vm, Guid.NewGuid().ToString(), "alpha", job, [new TargetRef("beta", sr)], new ReplicationSettings { CopyRetention = 2 });

            var full = await RunAsync(region, Request(), alpha, beta, 1, output, "full");
            var written = GuestWorkload.Write(alpha.Pool, vm, 0, 8, 7).Blocks;
            output.WriteLine($"  the guest wrote {written.Count} blocks of 2 MiB on its first disk");
            alpha.Pool.Collector.RunOnce();
            var delta = await RunAsync(region, Request(), alpha, beta, 2, output, "delta");
            await node.StopAsync();

            var ok = full.Status == "success" && delta.Status == "success" && full.Full && !delta.Full;
            output.WriteLine(ok ? $"xcr demo: done in {clock.Elapsed.TotalSeconds:F1} s — replica verified after the full and the delta run" : "xcr demo: FAILED");
            return ok ? 0 : 1;
        }
        finally
        {
            if (keep)
            {
                output.WriteLine($"  files kept in {dir}");
            }
            else
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static async Task<IHost> StartNodeAsync(string dataDir, IPoolRegistry pools)
    {
        Directory.CreateDirectory(dataDir);
        var host = new HostBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .ConfigureServices(services => services.AddAkka("xcr", builder => builder
                .ConfigureLoggers(loggers => loggers.LogLevel = Akka.Event.LogLevel.WarningLevel)
                .WithLoopbackCluster()
                .WithSqlPersistence("SQLite.MS", ReplicationHosting.SqliteConnection(dataDir))
                .WithXcrSerializer()
                .WithReplicatedVms(new XapiRunExecutor(pools))))
            .Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>web01 on alpha (its uuid) and beta's "Local storage" SR (its uuid).</summary>
    private static async Task<(string Vm, string Sr)> LocateAsync(SimServer alpha, SimServer beta)
    {
        await using var a = await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:password@{alpha.Url.Authority}"));
        await using var b = await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:password@{beta.Url.Authority}"));
        var vm = (await a.GetAllRecordsAsync<Xapi.Records.VmRecord>()).First(v => v.NameLabel == "web01" && !v.IsASnapshot);
        var sr = (await b.GetAllRecordsAsync<Xapi.Records.SrRecord>()).First(s => s.NameLabel == "Local storage");
        return (vm.Uuid, sr.Uuid);
    }

    private static async Task<RunResult> RunAsync(IActorRef region, ReplicateVm request, SimServer alpha, SimServer beta, int runs, TextWriter output, string expected)
    {
        var exported = alpha.Pool.Stats.BytesExported("/export_raw_vdi");
        var imported = beta.Pool.Stats.BytesImported("/import_raw_vdi");
        var reply = await region.Ask<IReplicatedVmMessage>(request, TimeSpan.FromSeconds(30));
        if (reply is RunRejected rejected)
        {
            throw new InvalidOperationException(rejected.Reason);
        }

        output.WriteLine($"  run {runs} ({expected} expected) started");
        var clock = Stopwatch.StartNew();
        ReplicatedVmState state;
        do
        {
            await Task.Delay(250);
            state = await region.Ask<ReplicatedVmState>(new GetVmStatus(request.VmUuid), TimeSpan.FromSeconds(30));
        }
        while (state.Current is not null || state.History.Count < runs);

        var result = state.History[^1].Result;
        foreach (var line in result.Log)
        {
            output.WriteLine($"    {line.Name,-40} {line.Status,-8} {(line.Size is { } size ? $"{size / 1048576.0:F1} MiB" : "")} {line.Message}");
        }

        output.WriteLine($"  run {runs}: {result.Status}, {(result.Full ? "full" : "delta")}, {(alpha.Pool.Stats.BytesExported("/export_raw_vdi") - exported) / 1048576.0:F1} MiB exported by alpha, "
            + $"{(beta.Pool.Stats.BytesImported("/import_raw_vdi") - imported) / 1048576.0:F1} MiB imported by beta, {clock.Elapsed.TotalSeconds:F1} s{(result.Error is null ? "" : ": " + result.Error)}");
        if (result.Status == "success")
        {
            var target = result.Targets.Single();
            var same = await ChecksumsAsync(alpha, result.SourceSnapshotUuid!) == await ChecksumsAsync(beta, target.RestorePointUuid!);
            output.WriteLine($"  restore point {target.RestorePointUuid} {(same ? "equals" : "DIFFERS FROM")} the source snapshot");
            if (!same)
            {
                return result with { Status = "failure" };
            }
        }

        return result;
    }

    private static async Task<string> ChecksumsAsync(SimServer sim, string vmUuid)
    {
        await using var client = await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:password@{sim.Url.Authority}"));
        var pool = new Replication.Pool(client);
        var vm = await pool.VmAsync(await pool.VmRefAsync(vmUuid));
        return string.Join(",", (await pool.DisksAsync(vm)).Select(d => GuestWorkload.Checksum(sim.Pool, d.Vdi.Uuid)));
    }
}
