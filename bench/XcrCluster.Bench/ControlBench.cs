using XcrCluster.Testing;

namespace XcrCluster.Bench;

/// <summary>
/// `xcr-bench control [--vms 1000] [--nodes 1,3] [--concurrency N]`: the control plane's cost per VM (the job's
/// concurrency: its default, 2, unless given). Two simulated pools (processes), alpha
/// holding N VMs with one tiny empty disk each; one job over all of them to beta; a first (full) run, then a run where
/// nothing changed (empty deltas), timed from the request to the run's end event. The simulators' own time for that run
/// (both pools' busy time, /sim/stats) is reported apart; what is left per VM is the overhead the goal is about. Once on one
/// node (SQLite), once over three nodes sharing a PostgreSQL journal (each hosts ReplicatedVm entities; one serves alpha,
/// one beta). Each node's peak RSS (VmHWM) covers both runs.
/// </summary>
public static class ControlBench
{
    /// <summary>The goal: milliseconds per VM beyond the simulator's own time (its busy time).</summary>
    public const double GoalMs = 50;

    public static async Task RunAsync(BenchArgs args)
    {
        Directory.CreateDirectory(args.Dir);
        var results = new List<ControlResult>();
        try
        {
            foreach (var nodes in args.Nodes)
            {
                try
                {
                    results.Add(await MeasureAsync(args, nodes));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException
                    or OperationCanceledException or IOException)
                {
                    Console.Error.WriteLine($"xcr-bench control: {nodes} node(s): {e}");
                    results.Add(ControlResult.Failed(nodes, args.Vms, e.Message));
                }
            }
        }
        finally
        {
            try
            {
                Directory.Delete(args.Dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        ControlReport.Print(Console.Out, args, results);
    }

    private static async Task<ControlResult> MeasureAsync(BenchArgs args, int nodeCount)
    {
        var dir = Path.Combine(args.Dir, $"{nodeCount}-node");
        Directory.CreateDirectory(dir);
        Console.Error.WriteLine($"xcr-bench control: {nodeCount} node(s), {args.Vms} VMs: starting the pools");
        await using var pools = await ControlPools.StartAsync(dir, args.Vms);
        PostgresServer? postgres = null;
        var nodes = new List<ControlNode>();
        try
        {
            if (nodeCount == 1)
            {
                nodes.Add(await ControlNode.StartAsync("node", Path.Combine(dir, "node")));
            }
            else
            {
                postgres = await PostgresServer.StartAsync();
                string[] journal = ["--postgres", postgres.ConnectionString];
                var first = await ControlNode.StartAsync("node-1", Path.Combine(dir, "node-1"),
                    ["--roles", "control,pool-alpha", .. journal]);
                nodes.Add(first);
                foreach (var (name, roles) in new[] { ("node-2", "control,pool-beta"), ("node-3", "control") })
                {
                    nodes.Add(await ControlNode.JoinAsync(name, Path.Combine(dir, name), first, ["--roles", roles, .. journal]));
                }

                await first.AwaitMembersAsync(3, TimeSpan.FromMinutes(2));
            }

            return await JobAsync(args, nodeCount, pools, nodes);
        }
        finally
        {
            nodes.ForEach(n => n.Dispose());
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }
        }
    }

    /// <summary>Pools registered, the job defined over every VM, its full run, then the timed run with empty deltas.</summary>
    private static async Task<ControlResult> JobAsync(BenchArgs args, int nodeCount, ControlPools pools, List<ControlNode> nodes)
    {
        var (api, vms) = (nodes[0], args.Vms);
        await api.PostAsync("/api/pools", ControlPools.Registration("alpha", pools.Alpha));
        await api.PostAsync("/api/pools", ControlPools.Registration("beta", pools.Beta));
        var job = await api.PostAsync("/api/jobs", new
        {
            name = "control-bench", sourcePool = "alpha", vms = pools.VmUuids,
            targets = new[] { new { pool = "beta", sr = pools.TargetSr } },
            settings = args.Concurrency is { } concurrency ? new { concurrency } : null,
        });
        var jobId = job["id"]!.GetValue<string>();

        // Bounded: far above what the goal allows, so a slow engine still reports its numbers.
        var limit = TimeSpan.FromMinutes(5) + (vms * TimeSpan.FromSeconds(10));
        Console.Error.WriteLine($"xcr-bench control: {nodeCount} node(s): full run of {vms} VMs");
        var full = await TimedRunAsync(api, jobId, limit);
        await pools.ClearStatsAsync();
        Console.Error.WriteLine($"xcr-bench control: {nodeCount} node(s): full run {full.Wall.TotalSeconds:F1} s; run with empty deltas");
        var (nodeCpu, simCpu) = (Cpu(nodes), pools.Cpu);
        var empty = await TimedRunAsync(api, jobId, limit);
        (nodeCpu, simCpu) = (Cpu(nodes) - nodeCpu, pools.Cpu - simCpu);
        var calls = await pools.CallsAsync();
        Console.Error.WriteLine($"xcr-bench control: {nodeCount} node(s): empty deltas {empty.Wall.TotalSeconds:F1} s");
        var serial = await SerialAsync(api, pools, nodes, limit);
        return new ControlResult(nodeCount, vms, full, empty, calls, [.. nodes.Select(n => (n.Name, n.PeakResidentBytes))], null)
        {
            NodeCpu = nodeCpu, SimulatorCpu = simCpu, Serial = serial,
        };
    }

    /// <summary>The overhead the goal names, measured exactly: a second job over the first <see cref="SerialVms"/> VMs
    /// with concurrency 1, so no two calls of the run overlap and the simulators' busy times add up to the part of the
    /// wall time they took; its full run first, then its run with empty deltas, timed.</summary>
    private static async Task<SerialResult> SerialAsync(ControlNode api, ControlPools pools, List<ControlNode> nodes, TimeSpan limit)
    {
        var sample = pools.VmUuids.Take(SerialVms).ToList();
        var job = await api.PostAsync("/api/jobs", new
        {
            name = "control-bench-serial", sourcePool = "alpha", vms = sample,
            targets = new[] { new { pool = "beta", sr = pools.TargetSr } }, settings = new { concurrency = 1 },
        });
        var jobId = job["id"]!.GetValue<string>();
        Console.Error.WriteLine($"xcr-bench control: {nodes.Count} node(s): one VM at a time over {sample.Count} VMs");
        await TimedRunAsync(api, jobId, limit);
        await pools.ClearStatsAsync();
        var nodeCpu = Cpu(nodes);
        var run = await TimedRunAsync(api, jobId, limit);
        var calls = await pools.CallsAsync();
        return new SerialResult(sample.Count, run, calls, Cpu(nodes) - nodeCpu);
    }

    /// <summary>VMs of the one-at-a-time sample: enough for a stable mean, few enough to take about a minute.</summary>
    public const int SerialVms = 100;

    private static TimeSpan Cpu(List<ControlNode> nodes) => nodes.Aggregate(TimeSpan.Zero, (sum, n) => sum + n.Cpu);

    private static async Task<RunStages> TimedRunAsync(ControlNode api, string jobId, TimeSpan limit)
    {
        var (runId, wall, refused, reason) = await api.RunAsync(jobId, limit);
        return await RunStages.ReadAsync(api, jobId, runId, wall) with { Refused = refused, RefusedReason = reason };
    }
}
