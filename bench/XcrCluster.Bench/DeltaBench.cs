using XcrCluster.Vhd;

namespace XcrCluster.Bench;

/// <summary>`xcr-bench delta`: one node replicates the VM of the replication case in full, then the guest writes 1 % of
/// its disk's blocks and the job runs again (a delta), then 10 % and again: each delta's wall time and bytes against the
/// full run's.</summary>
public static class DeltaBench
{
    private static readonly Section Section = new("Delta runs after the guest wrote 1 % and 10 % of its blocks (issue 16)",
        "`bash bench/run.sh delta [--size-mib 4096]` (the replication case's VM and disk, one node, the file SR; the guest "
        + "writes whole 2 MiB blocks of random data, chosen at random, through the simulator's /sim/guest-write)",
        """
        - Times are the node's (job run start to the restore point committed), as in the replication case. "changed"
          is what the guest wrote; "sent" is the VHD stream the target received. The goal's bound is 2 x the changed
          bytes at the full run's rate (disk content per second) plus 1 s for what a run costs whatever it sends.
        """);

    public static async Task RunAsync(BenchArgs args)
    {
        var size = args.SizeOr(ReplicationBench.DefaultSize);
        var blocks = (int)((size + VhdConstants.DefaultBlockSize - 1) / VhdConstants.DefaultBlockSize);
        Console.Error.WriteLine($"xcr-bench delta: a {size >> 20} MiB disk ({blocks} blocks)");
        var runs = await ReplicationBench.WithPoolsAsync(size, "ext", async (source, target) =>
        {
            using var cluster = await BenchCluster.StartAsync(1, source, target);
            var vm = (await source.VmAsync("bench")).Uuid;
            var full = await cluster.RunAsync(ReplicationBench.Limit);
            var done = new List<(string Name, int Blocks, RunReport Report)> { ("full", blocks, full) };
            foreach (var percent in (int[])[1, 10])
            {
                var written = Math.Max(1, blocks * percent / 100);
                await source.GuestWriteAsync(vm, written, seed: percent);
                done.Add(($"delta after {percent} % written", written, await cluster.RunAsync(ReplicationBench.Limit)));
                Console.Error.WriteLine($"  {done[^1].Name}: {done[^1].Report.Duration.TotalSeconds:F2} s");
            }

            return done;
        });
        Section.Print(output => Print(output, runs, size));
    }

    private static void Print(TextWriter output, List<(string Name, int Blocks, RunReport Report)> runs, long size)
    {
        var full = runs[0].Report;
        var rate = size / full.Duration.TotalSeconds; // disk content per second of the full run
        output.WriteLine("| run | full or delta | changed MB | sent MB | s | time vs full | bytes vs full | goal bound s |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, blocks, report) in runs)
        {
            var changed = Math.Min(size, (long)blocks * VhdConstants.DefaultBlockSize);
            var bound = report == full ? "–" : $"{2 * changed / rate + 1:F2}";
            output.WriteLine($"| {name} | {(report.Full ? "full" : "delta")} | {changed / 1e6:F0} | {report.Bytes / 1e6:F0} | "
                + $"{report.Duration.TotalSeconds:F2} | {report.Duration / full.Duration:F3} | "
                + $"{(double)report.Bytes / full.Bytes:F3} | {bound} |");
        }

        output.WriteLine();
        foreach (var (name, blocks, report) in runs.Skip(1))
        {
            var bound = 2 * Math.Min(size, (long)blocks * VhdConstants.DefaultBlockSize) / rate + 1;
            var met = !report.Full && report.Duration.TotalSeconds <= bound;
            output.WriteLine(Section.Goal($"{name}: a delta in <= 2 x changed bytes / full throughput + 1 s = {bound:F2} s", met));
        }

        foreach (var (name, _, report) in runs.Skip(1).Where(r => r.Report.Full || r.Report.Duration.TotalSeconds
            > 2 * Math.Min(size, (long)r.Blocks * VhdConstants.DefaultBlockSize) / rate + 1))
        {
            report.PrintStages(output, name);
        }
    }
}
