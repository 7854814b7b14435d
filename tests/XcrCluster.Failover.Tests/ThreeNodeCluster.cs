using System.Text.Json.Nodes;
using XcrCluster.Actors;

namespace XcrCluster.Failover.Tests;

/// <summary>
/// Three xcr-node processes on loopback sharing one PostgreSQL: A (control, pool-alpha) seeds the cluster, B (control,
/// pool-beta) and C (pool-alpha, pool-beta) join through A and B. Each pool's agent and the control plane have two
/// candidate nodes. A is the oldest member: the control plane, scheduler and shard coordinator singletons and pool alpha's
/// agent start there, pool beta's agent on B. Every process is stopped by its PID when disposed, whatever happened.
/// </summary>
public sealed class ThreeNodeCluster : IAsyncDisposable
{
    /// <summary>
    /// How long a survivor takes to see a killed node gone, from hocon/failure-detector.hocon and cluster.hocon:
    /// unreachable once no heartbeat came for acceptable-heartbeat-pause (10 s) plus what phi's threshold (12) adds on
    /// a 1 s heartbeat (about 2 s more; the entity bench measured 12 s), then downed by the split brain resolver after
    /// stable-after (20 s) without membership change, then removed, and the singletons (control plane, scheduler, shard
    /// coordinator, agents) start on the next oldest node with their role and recover from the journal. 32 s measured
    /// in bench/RESULTS.md; the bound leaves room for a loaded 2-core CI machine and for requests that wait out
    /// the node's ask timeout (30 s) while a singleton is between nodes.
    /// </summary>
    public static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(120);

    private readonly Dictionary<string, NodeProcess?> nodes = [];
    private readonly List<(string Name, NodeProcess Node)> started = [];
    private readonly Dictionary<string, string> dirs;
    private readonly Action<string> log;

    private ThreeNodeCluster(PostgresServer postgres, Dictionary<string, string> dirs, Action<string> log)
        => (Postgres, this.dirs, this.log) = (postgres, dirs, log);

    public PostgresServer Postgres { get; }

    /// <summary>Starts PostgreSQL and the three nodes (each in a data directory from <paramref name="dataDir"/>), waits
    /// until the three are Up, and registers the two pools.</summary>
    /// <param name="log">Where each node's log goes when the cluster is disposed (the test's output).</param>
    public static async Task<ThreeNodeCluster> StartAsync(SimHost alpha, SimHost beta, Func<string, string> dataDir, Action<string> log)
    {
        var dirs = new[] { "A", "B", "C" }.ToDictionary(n => n, n => dataDir($"xcr-{n.ToLowerInvariant()}-"));
        var cluster = new ThreeNodeCluster(await PostgresServer.StartAsync(), dirs, log);
        try
        {
            await cluster.StartNodeAsync("A");
            await cluster.StartNodeAsync("B");
            await cluster.StartNodeAsync("C");
            await cluster.AwaitUpAsync(3, TimeSpan.FromSeconds(60));
            await cluster["A"].AddPoolAsync("alpha", alpha);
            await cluster["A"].AddPoolAsync("beta", beta);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public NodeProcess this[string name] => nodes[name] ?? throw new InvalidOperationException($"node {name} is not running");

    /// <summary>Each node's roles: two candidates for the control plane and for each pool's agent.</summary>
    public static string Roles(string name) => name switch
    {
        "A" => "control,pool-alpha",
        "B" => "control,pool-beta",
        _ => "pool-alpha,pool-beta",
    };

    /// <summary>A node's Akka address (from the DIR/endpoint file it wrote when ready).</summary>
    public string Address(string name) => NodeProcess.Endpoint(dirs[name])["akka"];

    /// <summary>The name of the node with this Akka address.</summary>
    public string NameOf(string address) => dirs.Keys.Single(n => Address(n) == address);

    /// <summary>Starts a node: A seeds a new cluster; B, C (and any node started again) join through the others' seeds.</summary>
    public async Task StartNodeAsync(string name)
    {
        string[] pg = ["--postgres", Postgres.ConnectionString];
        var seeds = dirs.Where(d => d.Key != name && d.Key != "C" && nodes.GetValueOrDefault(d.Key) is not null).Select(d => d.Value)
            .ToList();
        nodes[name] = seeds.Count == 0
            ? await NodeProcess.StartAsync(dirs[name], ["--roles", Roles(name), .. pg])
            : await NodeProcess.JoinAsync(dirs[name], seeds, Roles(name), pg);
        started.Add((name, nodes[name]!));
    }

    /// <summary>kill -9 of a node's process (by its PID): nothing of it runs afterwards, not even its shutdown tasks. Its
    /// log stays for <see cref="DisposeAsync"/>.</summary>
    public async Task KillAsync(string name)
    {
        var node = this[name];
        nodes[name] = null;
        Assert.Equal(137, await node.Process.SignalAsync("KILL"));
    }

    /// <summary>SIGSTOP to a node: it neither answers nor sends, as behind a link that drops everything; it is no longer
    /// asked anything. <see cref="ThawAsync"/> lets it run again.</summary>
    public async Task<NodeProcess> FreezeAsync(string name)
    {
        var node = this[name];
        nodes[name] = null;
        await SignalAsync("STOP", node.Process.ProgramPid);
        return node;
    }

    /// <summary>SIGCONT to a frozen node; returns its exit code once it ended by itself (downed while away, it stops).</summary>
    public static async Task<int> ThawAsync(NodeProcess node)
    {
        await SignalAsync("CONT", node.Process.ProgramPid);
        return await node.Process.WaitForExitAsync();
    }

    private static async Task SignalAsync(string signal, int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, pid.ToString()])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>What the running nodes logged so far.</summary>
    public string RunningLogs() => string.Join('\n', Running().Select(n => n.Process.Stderr));

    /// <summary>SIGTERM to a node, as systemd or Kubernetes stop it: it leaves the cluster, cancels what runs on it and
    /// exits 0.</summary>
    public async Task StopAsync(string name)
    {
        var node = this[name];
        nodes[name] = null;
        Assert.Equal(0, await node.Process.SignalAsync("TERM"));
    }

    /// <summary>Waits for a node that was asked to leave to end by itself (its actor system terminated after leaving stops
    /// the host); its exit code.</summary>
    public async Task<int> AwaitExitAsync(string name)
    {
        var node = this[name];
        nodes[name] = null;
        return await node.Process.WaitForExitAsync();
    }

    /// <summary>Waits until <paramref name="count"/> members are Up, as the first running node sees them.</summary>
    public Task AwaitUpAsync(int count, TimeSpan limit)
        => Poll.UntilAsync(async () => (await Any().GetAsync("/api/cluster"))["members"]!.AsArray()
            .Count(m => m!["status"]!.GetValue<string>() == "Up") == count, $"{count} members up", limit);

    /// <summary>Waits until no running node counts <paramref name="name"/> as a member any more (downed and removed).</summary>
    public Task AwaitRemovedAsync(string name)
    {
        var address = Address(name);
        return Poll.UntilAsync(async () =>
        {
            foreach (var node in Running())
            {
                var members = (await node.GetAsync("/api/cluster"))["members"]!.AsArray();
                if (members.Any(m => m!["address"]!.GetValue<string>() == address))
                {
                    return false;
                }
            }

            return true;
        }, $"node {name} removed from the cluster", FailoverLimit);
    }

    /// <summary>The node running a pool's agent singleton (its slots, source and target sessions).</summary>
    public async Task<string> AgentNodeAsync(string pool)
        => NameOf((await Any().GetAsync($"/api/pools/{pool}/load"))["node"]!.GetValue<string>());

    /// <summary>The control node whose replicated-vm region hosts the shard of a VM's entity, if any running node does.</summary>
    public async Task<string?> EntityNodeAsync(string vm)
    {
        var shard = new ReplicatedVmMessageExtractor().ShardId(vm);
        foreach (var name in nodes.Where(n => n.Value is not null && Roles(n.Key).Contains("control")).Select(n => n.Key))
        {
            var stats = await this[name].GetAsync($"/api/sharding/regions/{ReplicatedVmMessageExtractor.RegionName}");
            if (stats["shards"]!.AsArray().Any(s => s!["id"]!.GetValue<string>() == shard && s["entities"]!.GetValue<int>() > 0))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>The runs of a VM its entity recorded (finished ones, oldest first).</summary>
    public async Task<JsonArray> VmRunsAsync(string vm) => (await Any().GetAsync($"/api/vms/{vm}"))["runs"]!.AsArray();

    /// <summary>A condition polled while nodes come and go: a request answered 503 (a singleton between nodes, the
    /// node's ask timeout) or failing is "not yet", not a failure of the test.</summary>
    public static Func<Task<bool>> Meanwhile(Func<Task<bool>> condition) => async () =>
    {
        try
        {
            return await condition();
        }
        catch (Exception e) when (e is Xunit.Sdk.XunitException or HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    };

    /// <summary>A running node (the first by name) to ask.</summary>
    public NodeProcess Any() => Running().First();

    private IEnumerable<NodeProcess> Running() => nodes.OrderBy(n => n.Key).Select(n => n.Value).OfType<NodeProcess>();

    public async ValueTask DisposeAsync()
    {
        foreach (var (name, node) in started)
        {
            node.Dispose();
            log($"--- node {name} ({string.Join(' ', node.Process.Stdout)}) log:\n{node.Process.Stderr}");
        }

        await Postgres.DisposeAsync();
    }
}
