namespace XcrCluster.Bench;

/// <summary>`xcr-bench replication`: a full replication of one VM (one synthetic disk, 4 GiB unless --size-mib) between two
/// simulated pools run as processes, by real `xcr-node` processes through their HTTP API: (a) one node, (b) two nodes with
/// the source's and the target's agents on different nodes (every block over the data channel); in the same run the
/// baselines: (c) the same VHD export piped into the same target's import by a plain HttpClient copy, (d) the export read
/// to nowhere. On the file SR and on the null SR. Fresh pools and nodes for every measurement, so no run finds a base.</summary>
public static class ReplicationBench
{
    public const long DefaultSize = 4L << 30;

    /// <summary>How long one replication may take before the case gives up on it.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    private const string OneNode = "(a) xcr-node, one node";
    private const string TwoNodes = "(b) xcr-node, two nodes (data channel)";
    private const string Pipe = "(c) plain HttpClient pipe, export into import";
    private const string ExportOnly = "(d) export read to nowhere";

    private static readonly Section Section = new("Replication between two simulated pools (issue 16)",
        "`bash bench/run.sh replication [--size-mib 4096]` (one VM, one disk of 4 GiB generated on read by the source simulator: "
        + "every 2 MiB block allocated, random bytes; pools, nodes and baselines each in their own processes, fresh for each "
        + "row, one run each)",
        """
        - Each cluster replicates a 256 MiB VM of the same pool once before the measured run (agents up, sessions open,
          code compiled), as a cluster that has served its pools before; the measured run is still the VM's first, full.
          With 4 MiB (2 blocks) the per-block code of the node and both simulators was still in the runtime's first,
          unoptimised tier or being recompiled during the measured run: a CPU profile of the null SR's one-node row found
          27 % of the node's and 16-24 % of the simulators' samples in the JIT, and a third of the target simulator's in
          unoptimised hashing code, while the baselines' simulators had been warmed by row (d)'s 4 GiB export. Every row
          now also waits until its simulators and nodes have been idle for half a second (at most a minute) before it
          starts: the runtime recompiles hot code in the background for seconds after a warm-up.
        - Rows (a) and (b) are timed as the node reports the run: from the job run's start to the end of the target's
          commit (its "target snapshot" step, the restore point), so the source checks, snapshot, transfer and commit are
          all in; (c) and (d) are timed around the HTTP transfer alone. MB/s are of disk content (the virtual size: every
          block is allocated), the ratio is against (c) on the same SR.
        - The file SR is the simulator's directory of VHD files (writes go through the page cache); the null SR reads,
          parses, counts and hashes what it is sent and stores nothing, so its rows show the engine's own ceiling. A
          simulator without the null SR type shows "not available" there.
        - Both simulators, both nodes and the baselines share the machine's cores: each row is one run, so compare
          rows of one run, not figures across runs.
        - The CPU table's window is the row's run as the bench sees it: for (a) and (b) from the POST that starts the
          run to the poll (every 100 ms) that sees it ended, so a little longer than the run's own time; for (c) and
          (d) the baseline's call, its logins included. The bench process runs (c) and (d) itself and only polls
          during (a) and (b). With tick-based CPU accounting (this machine's kernel) the kernel's socket work,
          loopback delivery included, counts to the process it runs in; ksoftirqd and other programs are only in the
          machine's busy time. The bound divides the cores by the total cost: what the row would reach if it used
          every core and nothing else ran.
        """);

    private static readonly (string Name, string Type)[] Srs = [("file", "ext"), ("null", "null")];

    public static async Task RunAsync(BenchArgs args)
    {
        var size = args.SizeOr(DefaultSize);
        Console.Error.WriteLine($"xcr-bench replication: a {size >> 20} MiB disk");
        var rows = new List<Row>();
        foreach (var (sr, type) in Srs)
        {
            rows.AddRange(await Row.TryAsync(sr, [ExportOnly, Pipe], () => WithPoolsAsync(size, type, async (source, target) =>
                (IReadOnlyList<Measured>)[await BaselineAsync(source, target, () => PlainPipe.ExportOnlyAsync(source)),
                await BaselineAsync(source, target, () => PlainPipe.PipeAsync(source, target))])));
            foreach (var (name, nodes) in new[] { (OneNode, 1), (TwoNodes, 2) })
            {
                if (sr == "null" && Find(rows, Pipe, sr) is { Time: null, Note: { } note } && note.Contains("no null SR"))
                {
                    rows.Add(new Row(name, sr, null, note, null)); // the pipe found no null SR: no node run can find one
                    continue;
                }

                rows.AddRange(await Row.TryAsync(sr, [name], () => WithPoolsAsync(size, type, async (source, target) =>
                {
                    using var cluster = await BenchCluster.StartAsync(nodes, source, target);
                    Settled(await CpuWindow.SettleAsync(source, target, cluster.Nodes));
                    var report = await cluster.RunAsync(Limit);
                    return (IReadOnlyList<Measured>)[new Measured(report.Duration, report, report.Cpu)];
                })));
            }
        }

        Section.Print(output => Print(output, rows, size));
    }

    /// <summary>A baseline's time, and the CPU time the bench process (where it runs) and both simulators used meanwhile.</summary>
    private static async Task<Measured> BaselineAsync(BenchPool source, BenchPool target, Func<Task<TimeSpan>> run)
    {
        Settled(await CpuWindow.SettleAsync(source, target));
        var cpu = CpuWindow.Start(source, target);
        var time = await run();
        return new Measured(time, null, cpu.Stop());
    }

    private static void Settled(TimeSpan waited)
        => Console.Error.WriteLine($"  processes idle after {waited.TotalSeconds:F1} s: measuring");

    /// <summary>A source pool and a target pool whose bench SR has the type given, for one measurement; the null SR is
    /// checked to have stored nothing (a simulator without it takes the type as a name and keeps the data).</summary>
    public static async Task<T> WithPoolsAsync<T>(long size, string srType, Func<BenchPool, BenchPool, Task<T>> body)
    {
        await using var source = await BenchPool.SourceAsync("alpha", size);
        await using var target = await BenchPool.TargetAsync("beta", size, srType);
        var result = await body(source, target);
        if (srType == "null" && target.StoredBytes() > size / 2)
        {
            throw new NotSupportedException(
                $"the simulator stored what it imported ({target.StoredBytes()} bytes): no null SR in this build");
        }

        return result;
    }

    private static void Print(TextWriter output, List<Row> rows, long size)
    {
        output.WriteLine("| case | SR | s | MB/s of disk content | vs (c) pipe |");
        output.WriteLine("|---|---|---:|---:|---:|");
        foreach (var row in rows)
        {
            var pipe = Find(rows, Pipe, row.Sr);
            output.WriteLine(row.Time is { } t
                ? $"| {row.Name} | {row.Sr} | {t.TotalSeconds:F2} | {size / t.TotalSeconds / 1e6:F0} | "
                    + (pipe?.Time is { } p ? $"{p / t:F2}" : "–") + " |"
                : $"| {row.Name} | {row.Sr} | – | {row.Note} | – |");
        }

        ReplicationCpu.Print(output, rows, size);
        output.WriteLine();
        var missed = new List<Row>();
        foreach (var (sr, _) in Srs)
        {
            Goal(output, missed, rows, OneNode, sr, $"one node on the {sr} SR >= 0.9 x the plain pipe", (t, p) => p / t >= 0.9);
            Goal(output, missed, rows, TwoNodes, sr, $"two nodes on the {sr} SR >= 0.8 x the plain pipe", (t, p) => p / t >= 0.8);
        }

        Goal(output, missed, rows, OneNode, "null", "one node on the null SR >= 1000 MB/s", (t, _) => size / t.TotalSeconds >= 1e9);
        foreach (var row in missed.Distinct())
        {
            var references = new[] { ExportOnly, Pipe }.Select(name => Find(rows, name, row.Sr))
                .Where(r => r?.Time is not null).Select(r => (r!.Name, r.Time!.Value));
            row.Report!.PrintStages(output, $"{row.Name} on the {row.Sr} SR", references);
        }
    }

    private static void Goal(TextWriter output, List<Row> missed, List<Row> rows, string name, string sr, string what,
        Func<TimeSpan, TimeSpan, bool> met)
    {
        var (row, pipe) = (Find(rows, name, sr), Find(rows, Pipe, sr));
        if (row?.Time is not { } t || pipe?.Time is not { } p)
        {
            output.WriteLine($"- goal: {what} — not measured ({row?.Note ?? pipe?.Note})");
            return;
        }

        output.WriteLine(Section.Goal(what, met(t, p)));
        if (!met(t, p))
        {
            missed.Add(row);
        }
    }

    private static Row? Find(List<Row> rows, string name, string sr) => rows.FirstOrDefault(r => r.Name == name && r.Sr == sr);
}
