using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Bench;

/// <summary>`xcr-bench entity-node` (hidden, started by <see cref="EntityBench"/>): a control node as xcr-node composes it
/// (ReplicationHosting: control plane, scheduler, ReplicatedVm region with remember-entities, SQL journal on PostgreSQL),
/// with <see cref="EntityExecutor"/> instead of XAPI and no pool agents. It prints "ready" on stdout once a member, then
/// answers one JSON line per command line read from stdin (<see cref="EntityNodeCommands"/>); everything else goes to stderr.</summary>
public static class EntityNode
{
    public sealed record Options(int Port, int SeedPort, string Postgres, string Firings, TimeSpan Idle, TimeSpan RunTime);

    public static async Task<int> RunAsync(string[] args)
    {
        var o = Parse(args);
        var stdout = Console.Out;
        Console.SetOut(Console.Error); // Akka's StandardOutLogger writes to Console.Out: stdout carries the answers only
        using var executor = new EntityExecutor(o.Firings, o.RunTime);
        using var host = new HostBuilder().ConfigureServices(services => services.AddAkka("xcr", akka => akka
            .AddHocon($"""
                akka.loglevel = WARNING
                {ReplicatedVmActor.PassivateIdleAfterPath} = {(long)o.Idle.TotalMilliseconds}ms
                """, HoconAddMode.Prepend)
            .WithRemoting(new RemoteOptions { HostName = "127.0.0.1", Port = o.Port })
            .WithClustering(new ClusterOptions
            {
                Roles = [ReplicationHosting.ControlRole], SeedNodes = [$"akka.tcp://xcr@127.0.0.1:{o.SeedPort}"],
            })
            .WithXcrClusterDefaults()
            .WithXcrSerializer()
            .WithRunProgress()
            .WithSqlPersistence("PostgreSQL.15", o.Postgres)
            .WithControlPlane(ReplicationHosting.ControlRole)
            .WithScheduler(ReplicationHosting.ControlRole)
            .WithReplicatedVms(executor, ReplicationHosting.ControlRole)
            // Jobs name their VMs: the scheduler asks no agent for a smart selection, and this node serves no pool.
            .WithActors((system, registry) => registry.Register<PoolAgents>(system.ActorOf(Props.Empty, "pool-agents")))))
            .Build();
        await host.StartAsync();
        var system = host.Services.GetRequiredService<ActorSystem>();
        var up = new TaskCompletionSource();
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        await up.Task.WaitAsync(TimeSpan.FromSeconds(120));
        var commands = new EntityNodeCommands(system);
        await stdout.WriteLineAsync("ready " + Cluster.Get(system).SelfAddress);
        await stdout.FlushAsync();
        while (await Console.In.ReadLineAsync() is { } line && line != "quit")
        {
            object reply;
            try
            {
                reply = await commands.HandleAsync(line.Split(' ', 2));
            }
            catch (Exception e)
            {
                reply = new { error = e.GetBaseException().Message };
            }

            await stdout.WriteLineAsync(JsonSerializer.Serialize(reply));
            await stdout.FlushAsync();
        }

        await host.StopAsync();
        return 0;
    }

    private static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        string Get(string name)
            => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"entity-node: {name} is required");
        double Number(string name) => double.Parse(Get(name), CultureInfo.InvariantCulture);
        return new Options((int)Number("--port"), (int)Number("--seed-port"), Get("--postgres"), Get("--firings"),
            TimeSpan.FromMilliseconds(Number("--idle-ms")), TimeSpan.FromMilliseconds(Number("--run-ms")));
    }
}

/// <summary>What the driver asks a node: its memory and shards (stats), to reach every VM of a list until each answered
/// (touch), and to define the bench's job (job).</summary>
public sealed class EntityNodeCommands(ActorSystem system)
{
    /// <summary>How many entity queries a touch keeps in flight.</summary>
    private const int InFlight = 64;

    private readonly ActorRegistry registry = ActorRegistry.For(system);

    public async Task<object> HandleAsync(string[] command) => command[0] switch
    {
        "stats" => await StatsAsync(),
        "touch" => await TouchAsync(await File.ReadAllLinesAsync(command[1])),
        "job" => await DefineJobAsync(await File.ReadAllLinesAsync(command[1])),
        _ => throw new ArgumentException($"unknown command {command[0]}"),
    };

    /// <summary>Memory after a full, compacting, decommitting collection (what the process keeps, not what it has not yet
    /// collected), and the entities of each shard this node hosts.</summary>
    private async Task<object> StatsAsync()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var status = (await File.ReadAllLinesAsync("/proc/self/status")).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim());
        long Kb(string key) => long.Parse(status[key].Split(' ')[0], CultureInfo.InvariantCulture);
        var region = await registry.GetAsync<ReplicatedVmRegion>();
        var shards = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(60));
        return new EntityNodeStats(Kb("VmRSS"), Kb("VmHWM"), GC.GetTotalMemory(false),
            shards.Shards.ToDictionary(s => s.ShardId, s => s.EntityIds.Count));
    }

    /// <summary>Asks every VM's entity for its state, again after a failed or late answer, until all answered (or 5 minutes).</summary>
    private async Task<object> TouchAsync(IReadOnlyList<string> vms)
    {
        var region = await registry.GetAsync<ReplicatedVmRegion>();
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromMinutes(5);
        long retries = 0;
        var answered = 0;
        await Parallel.ForEachAsync(vms, new ParallelOptions { MaxDegreeOfParallelism = InFlight }, async (vm, _) =>
        {
            while (clock.Elapsed < deadline)
            {
                try
                {
                    await region.Ask<ReplicatedVmState>(new GetVmStatus(vm), TimeSpan.FromSeconds(5));
                    Interlocked.Increment(ref answered);
                    return;
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or TimeoutException)
                {
                    Interlocked.Increment(ref retries);
                }
            }
        });
        return new TouchReply(answered, retries, clock.ElapsedMilliseconds);
    }

    /// <summary>The bench's job: every VM, a minutely schedule, no concurrency limit (every due run starts at once).</summary>
    private async Task<object> DefineJobAsync(IReadOnlyList<string> vms)
    {
        var control = await registry.GetAsync<ControlPlane>();
        foreach (var pool in new[] { "bench-source", "bench-target" })
        {
            var registration = new PoolRegistration(pool, $"https://{pool}.invalid", "root", "unused", null, true);
            await ControlPlaneClient.AskAsync<IControlReply>(control, new RegisterPool(registration, Replace: true),
                TimeSpan.FromSeconds(60));
        }

        var job = new JobDefinition("bench-minutely", "entities at scale", "bench-source", vms,
            [new TargetRef("bench-target", "6f1d2c9e-0000-4000-8000-000000000001")], new ReplicationSettings { Concurrency = 0 })
        {
            // Defined now, as JobApi does: no occurrence before it is due.
            Schedules = [new JobSchedule("every-minute", "* * * * *")], Defined = DateTimeOffset.UtcNow,
        };
        var reply = await ControlPlaneClient.AskAsync<IControlReply>(control, new DefineJob(job), TimeSpan.FromSeconds(60));
        return new { reply = reply.ToString() };
    }
}

public sealed record EntityNodeStats(long RssKb, long HwmKb, long ManagedBytes, Dictionary<string, int> Shards);

public sealed record TouchReply(int Answered, long Retries, long Ms);
