using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using XcrCluster.Actors;
using XcrCluster.Testing;

namespace XcrCluster.Bench;

/// <summary>`xcr-bench entities`: ReplicatedVm entities at scale over a 3-node cluster of <see cref="EntityNode"/> processes on one
/// PostgreSQL journal, with a simulated run executor. It measures the shard spread, memory before any entity, with every
/// entity active and after they passivated, the firings of a minutely schedule over every VM, and, after kill -9 of the
/// youngest node, the time until every VM of its shards answers again through a survivor.</summary>
public static class EntityBench
{
    private const int PoolPerNode = 25;

    public sealed record Options(int Entities, int MinutesBefore, int MinutesAfter, TimeSpan Idle, TimeSpan RunTime, string Dir);

    public static async Task<int> RunAsync(string[] args)
    {
        var o = Parse(args);
        Directory.CreateDirectory(o.Dir);
        var vms = Enumerable.Range(1, o.Entities).Select(i => $"00000000-0000-4000-8000-{i:D12}").ToList();
        var all = Path.Combine(o.Dir, "vms.txt");
        await File.WriteAllLinesAsync(all, vms);
        Log($"{o.Entities} entities, 3 nodes, idle passivation after {o.Idle.TotalSeconds:F0} s, "
            + $"runs of {o.RunTime.TotalMilliseconds:F0} ms, in {o.Dir}");
        await using var pg = await PostgresServer.StartAsync();
        var ports = Enumerable.Range(0, 3).Select(_ => FreePort()).ToList();
        // PostgreSQL accepts 100 connections; Npgsql's pool grows to 100 per node when thousands of entities recover at once
        // ("53300: too many clients", failed recoveries): each node's pool is bounded so that the three fit.
        var journal = pg.ConnectionString + $";Maximum Pool Size={PoolPerNode}";
        var nodes = new List<EntityNodeProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                nodes.Add(await EntityNodeProcess.StartAsync($"node{i + 1}", o.Dir, [
                    "--port", $"{ports[i]}", "--seed-port", $"{ports[0]}", "--postgres", journal,
                    "--firings", Path.Combine(o.Dir, $"firings-{i + 1}.tsv"), "--idle-ms", $"{o.Idle.TotalMilliseconds:F0}",
                    "--run-ms", $"{o.RunTime.TotalMilliseconds:F0}"]));
                Log($"node{i + 1} up: {nodes[i].Address}, pid {nodes[i].Pid}");
            }

            var report = new EntityReport(o);
            await WarmUpAsync(o, nodes);
            report.Baseline = await StatsAsync(nodes);
            var touch = await nodes[0].AskAsync<TouchReply>("touch " + all, TimeSpan.FromMinutes(6));
            report.Activation = touch;
            report.Active = await StatsAsync(nodes);
            Log($"every entity answered in {touch.Ms} ms ({touch.Retries} retries); entities per node: "
                + string.Join(", ", report.Active.Select(s => s.Shards.Values.Sum())));
            var passivation = Stopwatch.StartNew();
            report.Passivated = await AwaitPassivatedAsync(o, nodes);
            report.PassivatedAfter = passivation.Elapsed;
            var left = report.Passivated.Sum(s => s.Shards.Values.Sum());
            Log($"{left} entities left {passivation.Elapsed.TotalSeconds:F0} s after the touch");

            await ScheduleAndKillAsync(o, nodes, vms, report);
            report.Firings = ReadFirings(o.Dir);
            report.Print(Console.Out);
            return 0;
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>Defines the minutely job, lets <see cref="Options.MinutesBefore"/> occurrences fire, kills the youngest node 20 s
    /// into the next minute and probes its VMs through the oldest until each answered, then watches
    /// <see cref="Options.MinutesAfter"/> more occurrences.</summary>
    private static async Task ScheduleAndKillAsync(Options o, List<EntityNodeProcess> nodes, List<string> vms, EntityReport report)
    {
        await nodes[0].AskAsync<Dictionary<string, object>>("job " + Path.Combine(o.Dir, "vms.txt"), TimeSpan.FromMinutes(2));
        var first = NextMinute(DateTimeOffset.UtcNow);
        report.FirstDue = first;
        var kill = first.AddMinutes(o.MinutesBefore).AddSeconds(20);
        Log($"job defined; first occurrence {first:HH:mm:ss}, kill -9 of node3 at {kill:HH:mm:ss}");
        await Task.Delay(Until(kill));
        report.BeforeKill = await StatsAsync(nodes);
        var extractor = new ReplicatedVmMessageExtractor();
        var shards = report.BeforeKill[2].Shards.Keys.ToHashSet(StringComparer.Ordinal);
        var lost = vms.Where(vm => shards.Contains(extractor.ShardId(vm, null))).ToList();
        var probe = Path.Combine(o.Dir, "killed-vms.txt");
        await File.WriteAllLinesAsync(probe, lost);
        var clock = Stopwatch.StartNew();
        nodes[2].Kill();
        report.KilledAt = DateTimeOffset.UtcNow;
        Log($"node3 killed (pid {nodes[2].Pid}): {shards.Count} shards, {lost.Count} VMs");
        report.Recovery = (await nodes[0].AskAsync<TouchReply>("touch " + probe, TimeSpan.FromMinutes(6)), lost.Count, clock.Elapsed);
        Log($"every VM of node3 answered again {clock.Elapsed.TotalSeconds:F1} s after the kill");
        report.AfterRecovery = await StatsAsync(nodes.Take(2).ToList());
        report.Unreachable = EarliestLogged(o.Dir, "Marking node(s) as UNREACHABLE");
        report.Downed = EarliestLogged(o.Dir, "SBR took decision");
        await Task.Delay(Until(first.AddMinutes(o.MinutesBefore + 1 + o.MinutesAfter).AddSeconds(-1)));
        report.LastDue = first.AddMinutes(o.MinutesBefore + o.MinutesAfter);
    }

    /// <summary>The baseline is taken once the nodes have done everything but hold the entities: shards allocated, code compiled,
    /// connections open. A hundred other VMs per node are touched, then left to passivate.</summary>
    private static async Task WarmUpAsync(Options o, List<EntityNodeProcess> nodes)
    {
        await Task.Delay(TimeSpan.FromSeconds(5)); // the regions register with the coordinator (retried every 2 s)
        var warm = Path.Combine(o.Dir, "warm-up.txt");
        await File.WriteAllLinesAsync(warm, Enumerable.Range(1, 300).Select(i => $"00000000-0000-4000-9000-{i:D12}"));
        await nodes[0].AskAsync<TouchReply>("touch " + warm, TimeSpan.FromMinutes(6));
        await AwaitPassivatedAsync(o, nodes);
        Log("warmed up");
    }

    private static async Task<List<EntityNodeStats>> AwaitPassivatedAsync(Options o, List<EntityNodeProcess> nodes)
    {
        var clock = Stopwatch.StartNew();
        List<EntityNodeStats> stats;
        do
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            stats = await StatsAsync(nodes);
        }
        while (stats.Sum(s => s.Shards.Values.Sum()) > 0 && clock.Elapsed < o.Idle * 3 + TimeSpan.FromMinutes(1));
        return stats;
    }

    private static async Task<List<EntityNodeStats>> StatsAsync(IReadOnlyList<EntityNodeProcess> nodes)
    {
        var stats = new List<EntityNodeStats>();
        foreach (var node in nodes)
        {
            stats.Add(await node.AskAsync<EntityNodeStats>("stats", TimeSpan.FromMinutes(2)));
        }

        return stats;
    }

    private static List<EntityExecutor.Firing> ReadFirings(string dir)
        => [.. Directory.GetFiles(dir, "firings-*.tsv").SelectMany(f => File.ReadLines(f)
            .Select(line => EntityExecutor.Firing.Parse(line) with { Node = Path.GetFileNameWithoutExtension(f)[8..] }))];

    /// <summary>When a survivor first logged the line (Akka's "[MM/dd/yyyy HH:mm:ss.fffZ]" stamp).</summary>
    private static DateTimeOffset? EarliestLogged(string dir, string marker)
        => new[] { "node1.log", "node2.log" }.SelectMany(f => ReadShared(Path.Combine(dir, f)))
            .Where(l => l.Contains(marker, StringComparison.Ordinal) && l.Length > 35)
            .Select(l => DateTimeOffset.TryParseExact(l.Split(']')[1].TrimStart('['), "MM/dd/yyyy HH:mm:ss.fff'Z'",
                CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : (DateTimeOffset?)null)
            .Where(at => at is not null).Min();

    private static IEnumerable<string> ReadShared(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    private static DateTimeOffset NextMinute(DateTimeOffset t)
        => new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero).AddMinutes(1);

    private static TimeSpan Until(DateTimeOffset t) => t > DateTimeOffset.UtcNow ? t - DateTimeOffset.UtcNow : TimeSpan.Zero;

    private static void Log(string line) => Console.Error.WriteLine($"xcr-bench entities: {DateTimeOffset.UtcNow:HH:mm:ss} {line}");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Options Parse(string[] args)
    {
        var (entities, before, after, idle, run) = (10_000, 2, 2, 30.0, 200.0);
        string? dir = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Number() => double.Parse(Value(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--entities": entities = (int)Number(); break;
                case "--minutes-before-kill": before = (int)Number(); break;
                case "--minutes-after-kill": after = (int)Number(); break;
                case "--idle-s": idle = Number(); break;
                case "--run-ms": run = Number(); break;
                case "--dir": dir = Value(); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return entities < 3 || before < 1 || after < 1 || idle < 1
            ? throw new ArgumentException("--entities at least 3, --minutes-before-kill/--minutes-after-kill and --idle-s at least 1")
            : new Options(entities, before, after, TimeSpan.FromSeconds(idle), TimeSpan.FromMilliseconds(run),
                dir ?? Path.Combine(Path.GetTempPath(), "xcr-bench-entities-" + Guid.NewGuid().ToString("N")[..8]));
    }
}
