namespace XcrCluster.Bench;

/// <summary>One or two `xcr-node` processes replicating VM "bench" of a source pool to a target pool's bench SR. One node
/// serves both pools; with two, the first (control, the source's agent) and the second (the target's agent) sit on
/// different processes, so every block crosses the data channel between them. Before it is measured, the cluster
/// replicates VM "warmup" (256 MiB) once. Every node is killed on dispose.</summary>
public sealed class BenchCluster : IDisposable
{
    private readonly List<BenchNode> nodes = [];
    private string jobId = "";
    private BenchPool[] pools = [];

    public IReadOnlyList<BenchNode> Nodes => nodes;

    public static async Task<BenchCluster> StartAsync(int nodeCount, BenchPool source, BenchPool target)
    {
        var cluster = new BenchCluster { pools = [source, target] };
        try
        {
            var control = await BenchNode.StartAsync(nodeCount == 1 ? null : $"control,pool-{source.Name}");
            cluster.nodes.Add(control);
            if (nodeCount > 1)
            {
                cluster.nodes.Add(await BenchNode.JoinAsync(control, $"pool-{target.Name}"));
                await control.AwaitMembersAsync(nodeCount, TimeSpan.FromSeconds(60));
            }

            await control.AddPoolAsync(source);
            await control.AddPoolAsync(target);
            // A warm cluster, as one that has served its pools before: agents up, XAPI sessions open, the code paths of a
            // run compiled. What a fresh process pays once would otherwise count against the first measured run.
            await control.RunAsync(await control.JobAsync(source, target, "warmup"), ReplicationBench.Limit);
            cluster.jobId = await control.JobAsync(source, target, "bench");
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>Runs the job once, waits for it (at most <paramref name="limit"/>): the node's report, with the XAPI calls
    /// the run made on each pool (the simulators' counters, cleared before it) and the CPU time each process (bench,
    /// simulators, nodes) used from the run's launch to the bench seeing its end (polled every 100 ms).</summary>
    public async Task<RunReport> RunAsync(TimeSpan limit)
    {
        foreach (var pool in pools)
        {
            await pool.TakeCallCountsAsync();
        }

        var cpu = CpuWindow.Start(pools[0], pools[1], nodes);
        var report = await nodes[0].RunAsync(jobId, limit);
        report.Cpu = cpu.Stop();
        foreach (var pool in pools)
        {
            report.Calls[pool.Name] = await pool.TakeCallCountsAsync();
        }

        return report;
    }

    public void Dispose()
    {
        foreach (var node in nodes)
        {
            node.Dispose();
        }
    }
}
