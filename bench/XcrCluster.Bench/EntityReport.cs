namespace XcrCluster.Bench;

/// <summary>What <see cref="EntityBench"/> measured, printed as one markdown section with its goal lines.</summary>
public sealed partial class EntityReport(EntityBench.Options options)
{
    private const double GoalKbPerIdleEntity = 50;

    public List<EntityNodeStats> Baseline { get; set; } = [];

    public TouchReply? Activation { get; set; }

    public List<EntityNodeStats> Active { get; set; } = [];

    public List<EntityNodeStats> Passivated { get; set; } = [];

    public TimeSpan PassivatedAfter { get; set; }

    public DateTimeOffset FirstDue { get; set; }

    public DateTimeOffset LastDue { get; set; }

    public List<EntityNodeStats> BeforeKill { get; set; } = [];

    public DateTimeOffset KilledAt { get; set; }

    public (TouchReply Probe, int Vms, TimeSpan Elapsed) Recovery { get; set; }

    public List<EntityNodeStats> AfterRecovery { get; set; } = [];

    /// <summary>When a survivor marked the killed node unreachable, and when the split brain resolver downed it.</summary>
    public DateTimeOffset? Unreachable { get; set; }

    public DateTimeOffset? Downed { get; set; }

    public List<EntityExecutor.Firing> Firings { get; set; } = [];

    public void Print(TextWriter w)
    {
        w.WriteLine($"## Entities at scale: {options.Entities} ReplicatedVm entities over 3 nodes");
        w.WriteLine();
        w.WriteLine($"Command: `bash bench/run.sh entities --entities {options.Entities}`. Three `xcr-bench entity-node` processes "
            + "(control nodes as xcr-node composes them: control plane, scheduler, ReplicatedVm region with remember-entities, 50 "
            + "shards) on one PostgreSQL journal (fsync off); a simulated run executor (each run "
            + $"{options.RunTime.TotalMilliseconds:F0} ms, then success); idle entities passivate after {options.Idle.TotalSeconds:F0} s "
            + "(`xcr.replicated-vm.passivate-idle-after`, 2 min by default).");
        w.WriteLine();
        PrintSpread(w);
        PrintMemory(w);
        PrintFirings(w);
        PrintRecovery(w);
    }

    private void PrintSpread(TextWriter w)
    {
        w.WriteLine($"### Shard spread (every entity active: all {options.Entities} answered in {Activation?.Ms / 1000.0:F1} s "
            + "through node1)");
        w.WriteLine();
        w.WriteLine("| node | shards | entities |");
        w.WriteLine("|---|---:|---:|");
        for (var i = 0; i < Active.Count; i++)
        {
            w.WriteLine($"| node{i + 1} | {Active[i].Shards.Count} | {Active[i].Shards.Values.Sum()} |");
        }

        var perShard = Active.SelectMany(s => s.Shards.Values).Select(v => (double)v).ToList();
        var perNode = Active.Select(s => (double)s.Shards.Values.Sum()).ToList();
        var shardsPerNode = Active.Select(s => s.Shards.Count).ToList();
        w.WriteLine();
        w.WriteLine($"Entities per shard: {Spread(perShard)}. Entities per node: {Spread(perNode)}.");
        var even = shardsPerNode.Max() - shardsPerNode.Min() <= 1;
        w.WriteLine();
        w.WriteLine($"goal: shards spread evenly (shards per node differ by at most 1: {string.Join("/", shardsPerNode)}) — "
            + (even ? "met" : "missed"));
        w.WriteLine();
    }

    private void PrintMemory(TextWriter w)
    {
        w.WriteLine("### Memory per node (after a full compacting collection; RSS from /proc/self/status)");
        w.WriteLine();
        w.WriteLine("| node | entities | RSS before MB | RSS all active MB | RSS passivated MB | VmHWM MB "
            + "| managed before / active / passivated MB | KB per active entity | KB per passivated entity |");
        w.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var worst = 0.0;
        for (var i = 0; i < Active.Count; i++)
        {
            var (before, active, passive) = (Baseline[i], Active[i], Passivated[i]);
            var entities = Math.Max(1, active.Shards.Values.Sum());
            var perActive = (active.RssKb - before.RssKb) / (double)entities;
            var perIdle = Math.Max(0, passive.RssKb - before.RssKb) / (double)entities;
            worst = Math.Max(worst, perIdle);
            w.WriteLine($"| node{i + 1} | {entities} | {before.RssKb / 1024.0:F0} | {active.RssKb / 1024.0:F0} | "
                + $"{passive.RssKb / 1024.0:F0} | {passive.HwmKb / 1024.0:F0} | "
                + $"{Mb(before.ManagedBytes)} / {Mb(active.ManagedBytes)} / {Mb(passive.ManagedBytes)} | "
                + $"{perActive:F1} | {perIdle:F1} |");
        }

        var left = Passivated.Sum(s => s.Shards.Values.Sum());
        w.WriteLine();
        w.WriteLine($"{left} entities still active {PassivatedAfter.TotalSeconds:F0} s after the last message. An idle entity is a "
            + "passivated one; its cost is what the node still holds per entity it had (RSS passivated − RSS before).");
        w.WriteLine();
        var met = left == 0 && worst < GoalKbPerIdleEntity;
        w.WriteLine($"goal: idle entities passivated, memory per idle entity < {GoalKbPerIdleEntity} KB ({left} left active, worst node "
            + $"{worst:F1} KB) — {(met ? "met" : "missed")}");
        w.WriteLine();
    }

    private void PrintRecovery(TextWriter w)
    {
        var (probe, vms, elapsed) = Recovery;
        w.WriteLine($"### Recovery after kill -9 of node3 (at {KilledAt:HH:mm:ss}, {(KilledAt - FirstDue).TotalSeconds % 60:F0} s "
            + "into a minute)");
        w.WriteLine();
        w.WriteLine("| shards on node3 | VMs in them | every VM answered again through node1 after s | queries retried "
            + "| entities per survivor after |");
        w.WriteLine("|---:|---:|---:|---:|---|");
        w.WriteLine($"| {BeforeKill.ElementAtOrDefault(2)?.Shards.Count} | {vms} | {elapsed.TotalSeconds:F1} | {probe.Retries} | "
            + $"{string.Join(" / ", AfterRecovery.Select(s => $"{s.Shards.Count} shards, {s.Shards.Values.Sum()} entities"))} |");
        w.WriteLine();
        string Since(DateTimeOffset? at) => at is { } t ? $"{(t - KilledAt).TotalSeconds:F1} s" : "not logged";
        w.WriteLine($"recovery: {probe.Answered} of {vms} VMs answered {elapsed.TotalSeconds:F1} s after the kill. Where the time goes: "
            + $"marked unreachable after {Since(Unreachable)} (failure detector: 10 s acceptable heartbeat pause), downed by the split "
            + $"brain resolver after {Since(Downed)} (stable-after 20 s), the rest is the shards' new homes and their remembered entities "
            + "recovering from the journal on the survivors.");
        w.WriteLine();
    }

    private static string Mb(long bytes) => $"{bytes / 1048576.0:F0}";

    private static string Spread(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        var stddev = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
        return $"min {values.Min():F0}, max {values.Max():F0}, mean {mean:F1}, stddev {stddev:F1} "
            + $"({100 * stddev / Math.Max(1, mean):F1} % of the mean)";
    }
}
