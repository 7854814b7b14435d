namespace XcrCluster.Bench;

/// <summary>The replication case's CPU table: for each row, the CPU seconds each process used per GB of disk content
/// during the row's run (the bench process, where the baselines run; the source and target simulators; every node),
/// their total, how busy the cores were, and the rate the machine's cores could reach at that cost.</summary>
internal static class ReplicationCpu
{
    public static void Print(TextWriter output, IEnumerable<Row> rows, long size)
    {
        var (gb, cores) = (size / 1e9, Environment.ProcessorCount);
        output.WriteLine();
        output.WriteLine("CPU seconds per GB of disk content that each process used during each row's run (/proc/PID/stat utime + "
            + "stime before and after), their total, the cores busy on average over the run (these processes / the whole "
            + $"machine, of {cores}), and the rate {cores} cores would reach at that total cost; after each process's figure, in "
            + "brackets, the part of it the kernel spent on its behalf (stime: sockets, page cache, scheduling):");
        output.WriteLine();
        output.WriteLine("| case | SR | window s | bench | source sim | target sim | xcr-node(s) | total s/GB | CPU s | "
            + $"cores busy | bound on {cores} cores, MB/s |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            if (row.Cpu is not { } cpu)
            {
                output.WriteLine($"| {row.Name} | {row.Sr} | – | – | – | – | – | – | – | – | – |");
                continue;
            }

            string PerGb(string role) => cpu.Of(role) is { Count: > 0 } times
                ? string.Join(" + ", times.Select(t => $"{t.Cpu.TotalSeconds / gb:F2} ({t.System.TotalSeconds / gb:F2})")) : "–";
            var total = cpu.Total.TotalSeconds / gb;
            var wall = cpu.Wall.TotalSeconds;
            output.WriteLine($"| {row.Name} | {row.Sr} | {wall:F2} | {PerGb(CpuUse.Bench)} | {PerGb(CpuUse.SourceSim)} | "
                + $"{PerGb(CpuUse.TargetSim)} | {PerGb(CpuUse.Node)} | {total:F2} | {cpu.Total.TotalSeconds:F1} | "
                + $"{cpu.Total.TotalSeconds / wall:F2} / {cpu.Machine.TotalSeconds / wall:F2} | {cores / total * 1000:F0} |");
        }
    }
}
