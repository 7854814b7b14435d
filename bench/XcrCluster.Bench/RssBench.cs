namespace XcrCluster.Bench;

/// <summary>`xcr-bench rss`: peak resident memory (VmHWM) of each node process over a full replication of a 1 GiB and of
/// an 8 GiB disk (8 x --size-mib when given), with one node and with two (the data channel between them): what a run
/// holds must not grow with the disk.</summary>
public static class RssBench
{
    private const double MB = 1e6;

    private static readonly Section Section = new("Peak memory of the nodes over a 1 GiB and an 8 GiB full run (issue 16)",
        "`bash bench/run.sh rss [--size-mib 1024]` (the replication case's VM with a disk of SIZE and of 8 x SIZE, the file SR, "
        + "fresh pools and nodes for each run; VmHWM of /proc/PID/status of each xcr-node process after the run)",
        """
        - VmHWM is the process's high-water mark since it started: the runtime, Akka, ASP.NET and SQLite at rest,
          plus the most the run ever held at once (block buffers, pipes, the pool's mirror).
        """);

    public static async Task RunAsync(BenchArgs args)
    {
        var small = args.SizeOr(1L << 30);
        var rows = new List<(string Setup, string Node, long Small, long Large)>();
        var failed = new List<string>();
        foreach (var (setup, nodes) in new[] { ("one node", 1), ("two nodes", 2) })
        {
            var peaks = new List<long[]>();
            foreach (var size in (long[])[small, 8 * small])
            {
                try
                {
                    peaks.Add(await PeaksAsync(setup, nodes, size));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Console.Error.WriteLine($"  {setup}, {size >> 20} MiB: {e}");
                    failed.Add($"- {setup}, {size >> 20} MiB run: failed: {e.Message.ReplaceLineEndings(" ")}");
                }
            }

            if (peaks.Count == 2)
            {
                rows.AddRange(peaks[0].Select((p, i) => (setup, i == 0 ? (nodes == 1 ? "the node" : "source's (control)") : "target's",
                    p, peaks[1][i])));
            }
        }

        Section.Print(output => Print(output, rows, failed, small));
    }

    private static Task<long[]> PeaksAsync(string setup, int nodes, long size)
        => ReplicationBench.WithPoolsAsync(size, "ext", async (source, target) =>
        {
            using var cluster = await BenchCluster.StartAsync(nodes, source, target);
            var report = await cluster.RunAsync(ReplicationBench.Limit);
            var peak = cluster.Nodes.Select(n => n.PeakResidentBytes).ToArray();
            Console.Error.WriteLine($"  {setup}, {size >> 20} MiB: {report.Duration.TotalSeconds:F2} s, peak RSS "
                + string.Join(", ", peak.Select(p => $"{p / MB:F0} MB")));
            return peak;
        });

    private static void Print(TextWriter output, List<(string Setup, string Node, long Small, long Large)> rows, List<string> failed,
        long small)
    {
        output.WriteLine(
            $"| setup | node | peak RSS MB, {small >> 20} MiB run | peak RSS MB, {8 * small >> 20} MiB run | large / small |");
        output.WriteLine("|---|---|---:|---:|---:|");
        foreach (var (setup, node, s, l) in rows)
        {
            output.WriteLine($"| {setup} | {node} | {s / MB:F0} | {l / MB:F0} | {(double)l / s:F2} |");
        }

        output.WriteLine();
        foreach (var (setup, node, s, l) in rows)
        {
            output.WriteLine(Section.Goal($"{setup}, {node}: the two peaks within 20 % of each other",
                Math.Max(s, l) <= 1.2 * Math.Min(s, l)));
            output.WriteLine(Section.Goal($"{setup}, {node}: both peaks under 400 MB", Math.Max(s, l) < 400 * MB));
        }

        foreach (var line in failed)
        {
            output.WriteLine(line);
        }
    }
}
