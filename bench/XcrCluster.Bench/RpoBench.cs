using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Bench;

/// <summary>
/// The RPO proof (issue 18): one VM whose guest writes 10 MB/s all the time (the simulator's continuous guest writer), a job
/// with `--rpo 30s` and no cron, and nothing else: the scheduler alone decides when to run it. Every second the bench reads the
/// target pool's restore points of the VM (XAPI's records: their xo:backup:datetime, the run's transfer start, to the second)
/// and the node's /api/rpo; the lag is now minus the newest restore point's time. Measured for --minutes (10) from the first
/// restore point on (the first full copy is not an RPO run).
/// </summary>
public static class RpoBench
{
    private const long BytesPerSecond = 10_000_000;
    private static readonly TimeSpan Target = TimeSpan.FromSeconds(30);

    public static async Task RunAsync(BenchArgs args)
    {
        var window = TimeSpan.FromMinutes(args.Minutes);
        var size = args.SizeOr(4L << 30);
        var loadBefore = Load();
        await using var source = await BenchPool.WritableSourceAsync("alpha", size);
        await using var target = await BenchPool.TargetAsync("beta", 4 << 20, "ext");
        using var node = await BenchNode.StartAsync();
        await node.AddPoolAsync(source);
        await node.AddPoolAsync(target);
        var vm = (await source.VmAsync("rpo")).Uuid;
        var sr = (await target.BenchSrAsync()).Uuid;
        using var sim = new HttpClient { BaseAddress = source.Url };
        var writing = await sim.PostAsJsonAsync("/sim/guest-write/continuous", new { vm, bytesPerSecond = BytesPerSecond });
        writing.EnsureSuccessStatusCode();
        var job = (await node.PostAsync("/api/jobs", new
        {
            name = "rpo", sourcePool = source.Name, vms = new[] { vm }, targets = new[] { new { pool = target.Name, sr } },
            rpo = "00:00:30",
        }))["id"]!.GetValue<string>();

        var seen = new Dictionary<string, (DateTimeOffset Time, DateTimeOffset Seen)>(StringComparer.Ordinal);
        var samples = new List<(DateTimeOffset At, double PoolLag, double? ModelLag)>();
        DateTimeOffset? first = null;
        var began = DateTimeOffset.UtcNow;
        while (first is null || DateTimeOffset.UtcNow - first < window)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var (uuid, time) in await Checked(PointsAsync(target, vm), source, target, node))
            {
                seen.TryAdd(uuid, (time, now));
            }

            if (seen.Count > 0)
            {
                first ??= now;
                var row = (await node.GetAsync("/api/rpo")).AsArray().FirstOrDefault(r => r!["vm"]!.GetValue<string>() == vm);
                samples.Add((now, (now - seen.Values.Max(p => p.Time)).TotalSeconds, row?["lagSeconds"]?.GetValue<double>()));
            }

            if (first is null && now - began > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException("no restore point after 10 minutes");
            }

            await Task.Delay(TimeSpan.FromSeconds(1) - (DateTimeOffset.UtcNow - now) is { Ticks: > 0 } d ? d : TimeSpan.Zero);
        }

        var writer = await (await sim.DeleteAsync($"/sim/guest-write/continuous?vm={vm}")).Content.ReadFromJsonAsync<JsonNode>();
        var runs = (await node.GetAsync($"/api/runs?job={job}")).AsArray().Select(r => r!).ToList();
        Print(args with { SizeBytes = size }, samples, [.. seen.Values.OrderBy(p => p.Time)], runs, writer!, loadBefore);
    }

    /// <summary>A process of the case that exited is named with the end of its error output (the first runs of this case lost
    /// their simulators to ProgramProcess's 300 s default time limit: BenchPool and BenchNode now take the 4 h one).</summary>
    private static async Task<T> Checked<T>(Task<T> read, BenchPool source, BenchPool target, BenchNode node)
    {
        try
        {
            return await read;
        }
        catch (HttpRequestException e)
        {
            var gone = new[] { ("source simulator", source.Process), ("target simulator", target.Process), ("node", node.Process) }
                .Where(p => p.Process.HasExited)
                .Select(p => $"{p.Item1} exited: {p.Process.Stderr[^Math.Min(4000, p.Process.Stderr.Length)..]}");
            throw new InvalidOperationException($"{e.Message}; {string.Join("; ", gone)}", e);
        }
    }

    /// <summary>The VM's restore points on the target pool with their time (xo:backup:datetime, else XAPI's snapshot time).</summary>
    private static async Task<List<(string Uuid, DateTimeOffset Time)>> PointsAsync(BenchPool target, string vm)
        => [.. (await target.Client.GetAllRecordsAsync<VmRecord>())
            .Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Vm) == vm)
            .Select(v => (v.Uuid, DateTimeOffset.TryParseExact(v.OtherConfig.GetValueOrDefault(XoMetadata.Datetime),
                "yyyyMMdd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at
                : new DateTimeOffset(DateTime.SpecifyKind(v.SnapshotTime, DateTimeKind.Utc))))];

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ') is var l ? $"{l[0]} {l[1]} {l[2]}" : "";

    private static void Print(BenchArgs args, List<(DateTimeOffset At, double PoolLag, double? ModelLag)> samples,
        List<(DateTimeOffset Time, DateTimeOffset Seen)> points, List<JsonNode> runs, JsonNode writer, string loadBefore)
    {
        var durations = runs.Where(r => r["finished"] is not null)
            .Select(r => (r["finished"]!.GetValue<DateTimeOffset>() - r["started"]!.GetValue<DateTimeOffset>()).TotalSeconds)
            .Order().ToList();
        var maxLag = samples.Max(s => s.PoolLag);
        var over = samples.Count(s => s.PoolLag > Target.TotalSeconds);
        var mb = runs.Select(r => r["bytes"]!.GetValue<long>() / 1e6).Order().ToList();
        new Section("RPO kept by the scheduler (issue 18)",
            $"`bash bench/run.sh rpo --minutes {args.Minutes.ToString(CultureInfo.InvariantCulture)} --size-mib {args.SizeBytes >> 20}` "
            + $"(one node, source and target simulators as processes; VM \"rpo\", one {args.SizeBytes >> 20} MiB disk; "
            + "the guest writes 10 MB/s of random 2 MiB blocks all along; "
            + "job with `rpo = 30s`, no cron; lag = now minus the newest restore point's xo:backup:datetime on the target pool, "
            + "sampled every second)",
            """
            As written when the case was introduced (run of 2026-12-03 11:38 UTC, the only complete run):

            - Met: over 10 minutes of 10 MB/s guest writes the lag never reached 30 s (max 28 s sampled, 29 s as the upper bound
              "peak lag before it", which takes the second the new point was first seen). The scheduler alone ran the VM: 24 runs,
              one every ~25 s, each starting when lag + 1.5 × its longest recent run + 3 s reached 30 s; deltas of ~250 MB.
            - The margin left is small by design: the planner spends the target rather than replicate back to back (which would
              hold the lag near one run's duration at the price of a snapshot every couple of seconds). A point's time is its
              xo:backup:datetime (the transfer's start, truncated to the second) and the pool is read once a second, so a sampled
              lag can read up to ~2 s more than the data's true age.
            - The machine was quiet for this run (load 2.4 falling to 1.0). Earlier the same day, at load 15–20 from other work on
              the 2 shared cores, a 1-minute trial had runs of 3.5–4.6 s instead of 1.2–2.2 s: the planner then starts earlier
              (its expected duration follows the last 5 runs), which is why the margin is 1.5 × + 3 s and not less (with 1.25 × +
              2 s that trial peaked at 26 s). A run slower than 1.5 × the longest of the last five plus 3 s would still overshoot.
            - The first two attempts of this run died after 5 minutes: bench simulators and nodes inherited ProgramProcess's 300 s
              test time limit; they now take the 4 h one of the control case.
            """).Print(o =>
        {
            o.WriteLine("| measure | value |");
            o.WriteLine("|---|---:|");
            o.WriteLine($"| measured for | {args.Minutes} min from the first restore point, {samples.Count} samples |");
            o.WriteLine($"| restore points made | {points.Count} |");
            var succeeded = runs.Count(r => r["status"]!.GetValue<string>() == "success");
            o.WriteLine($"| runs (all by the scheduler) | {runs.Count}, {succeeded} successful |");
            o.WriteLine($"| run duration median / max | {Median(durations):F1} s / {durations.LastOrDefault():F1} s |");
            o.WriteLine($"| delta per run median / max | {Median(mb):F0} MB / {mb.LastOrDefault():F0} MB |");
            o.WriteLine($"| guest writes | {writer["bytes"]!.GetValue<long>() / 1e6:F0} MB in {writer["blocks"]} blocks |");
            o.WriteLine($"| max lag (pool's restore points) | {maxLag:F0} s |");
            o.WriteLine($"| max lag (node's /api/rpo) | {samples.Max(s => s.ModelLag ?? 0):F1} s |");
            o.WriteLine($"| samples over 30 s | {over} of {samples.Count} |");
            o.WriteLine($"| load average before / after | {loadBefore} / {Load()} |");
            o.WriteLine();
            o.WriteLine("Lag at each restore point: how old its data was when it appeared on the target, and the lag just before it "
                + "appeared (now minus the previous point's time: the peak of each cycle).");
            o.WriteLine();
            o.WriteLine("| # | point's time (UTC) | appeared | age when it appeared (s) | peak lag before it (s) |");
            o.WriteLine("|---:|---|---|---:|---:|");
            for (var i = 0; i < points.Count; i++)
            {
                var peak = i == 0 ? "" : $"{(points[i].Seen - points[i - 1].Time).TotalSeconds:F0}";
                o.WriteLine($"| {i + 1} | {points[i].Time:HH:mm:ss} | {points[i].Seen:HH:mm:ss} | "
                    + $"{(points[i].Seen - points[i].Time).TotalSeconds:F0} | {peak} |");
            }

            o.WriteLine();
            o.WriteLine(Section.Goal($"lag under 30 s for {args.Minutes} minutes at 10 MB/s of guest writes (max {maxLag:F0} s)",
                over == 0));
        });
    }

    private static double Median(List<double> sorted) => sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
}
