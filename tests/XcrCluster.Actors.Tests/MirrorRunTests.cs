using Akka.Actor;
using Akka.Streams;
using Xunit.Abstractions;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication;
using XcrCluster.Xapi;
using XcrCluster.XapiSim;
using RunStatus = XcrCluster.Domain.Vm.RunStatus;

namespace XcrCluster.Actors.Tests;

/// <summary>Runs made as a node makes them (<see cref="LocalRun"/> through the executor) reading the pools through the node's
/// <see cref="PoolMirrors"/>: what a run costs the pools does not grow with them, and a run outlives its mirror's stream.</summary>
public sealed class MirrorRunTests(ITestOutputHelper output)
{
    private static readonly JobRef Job = new("mirror-job", "mirror", "mirror-schedule", "by hand");

    [Fact]
    public async Task A_vm_run_makes_the_same_calls_in_pools_of_10_and_of_1000_vms_and_reads_no_whole_pool()
    {
        var small = await CallsOfOneRunAsync(10);
        var large = await CallsOfOneRunAsync(1000);
        foreach (var (side, few, many, budget) in new[]
        {
            ("source", small.Source, large.Source, OwnCallsBudget.Source), ("target", small.Target, large.Target, OwnCallsBudget.Target),
        })
        {
            output.WriteLine($"{side}: {Total(few)} calls at 10 VMs, {Total(many)} at 1000 VMs "
                + $"(event.from {few.GetValueOrDefault("event.from")} / {many.GetValueOrDefault("event.from")})");
            output.WriteLine("  " + string.Join(", ", many.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}")));
            Assert.DoesNotContain(few.Keys.Concat(many.Keys), m => m.EndsWith(".get_all_records", StringComparison.Ordinal)
                || m.EndsWith(".get_all", StringComparison.Ordinal));

            // Every call but event.from is the run's own: the same in both pools. event.from (the mirror's stream, task
            // waits) returns as the run's changes come, batched as the pool's speed allows: never more than one per change,
            // so never more than the run's own calls, whatever the pool's size.
            var (own, ownFew) = (Total(many) - many.GetValueOrDefault("event.from"), Total(few) - few.GetValueOrDefault("event.from"));
            Assert.InRange(own - ownFew, -2, 2);
            Assert.InRange(many.GetValueOrDefault("event.from"), 1, own);
            Assert.InRange(few.GetValueOrDefault("event.from"), 1, ownFew);

            // What a delta run of one VM costs each pool, pinned so that a change adding calls shows.
            Assert.True(own <= budget, $"{side}: {own} calls besides event.from, at most {budget} expected");
        }
    }

    /// <summary>The calls besides event.from of one delta run of a VM with one disk, per pool, with 2 to spare for a task
    /// that settles a poll later: 77 and 111 before map entries the pool did not hold were added without a remove first,
    /// a stamp read the disks before its write (no barrier for it) and the snapshot's VIFs were read before the transfer's
    /// tasks (no barrier) with its vTPMs from the record already read; 54 and 103 after.</summary>
    private static readonly (int Source, int Target) OwnCallsBudget = (56, 105);

    [Fact]
    public async Task A_run_whose_event_streams_die_mid_transfer_still_ends_with_the_source_snapshot_on_the_target()
    {
        await using var alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha" });
        await using var beta = await SimHost.StartAsync(o => o with { PoolName = "beta" });
        using var system = ActorSystem.Create("mirror-kill-test", "akka.loglevel = WARNING");
        var registry = Registry(alpha, beta);
        await using var mirrors = new PoolMirrors();
        var executor = new XapiRunExecutor(registry) { Mirrors = mirrors };
        var vm = await alpha.UuidAsync("VM", "web01");
        var targets = new[] { new TargetRef("beta", await beta.UuidAsync("SR", "Local storage")) };
        var settings = new ReplicationSettings { MaxUncoalescedVdis = 4 };

        for (var i = 1; i <= 2; i++)
        {
            var killed = 0;
            void Kill(RunProgress p)
            {
                if (p.Phase == RunPhase.Export && Interlocked.Exchange(ref killed, 1) == 0)
                {
                    alpha.Pool.Faults.EventStreams.KillAll();
                    beta.Pool.Faults.EventStreams.KillAll();
                }
            }

            var run = await executor.ExecuteAsync(new ReplicateVm(vm, $"run-{i}", "alpha", Job, targets, settings), system.Materializer(),
                CancellationToken.None, Kill);
            Assert.True(run.Status == RunStatus.Success, run.Error);
            Assert.Equal(1, killed);
            Assert.Equal(i == 1, run.Full);
            Assert.Equal(await alpha.DiskChecksumsAsync(run.SourceSnapshotUuid!),
                await beta.DiskChecksumsAsync(run.Targets[0].RestorePointUuid!));
            alpha.Pool.Collector.RunOnce();
            beta.Pool.Collector.RunOnce();
        }

        // Each mirror lost its stream in each run and reloaded: the runs read through mirrors that started over.
        Assert.True(mirrors.For("alpha", await registry.EndpointAsync("alpha")).Loads >= 3);
        Assert.True(mirrors.For("beta", await registry.EndpointAsync("beta")).Loads >= 3);
    }

    /// <summary>The calls one delta run of one VM makes on each pool, after a warm-up run (which also loads the mirrors).</summary>
    private static async Task<(Dictionary<string, long> Source, Dictionary<string, long> Target)> CallsOfOneRunAsync(int vms)
    {
        // One small disk per VM keeps building a pool of 1000 quick.
        var fixture = SimHost.SmallFixture with
        {
            Vms = [.. Enumerable.Range(1, vms).Select(i => new FixtureVm($"gen-{i:D5}", Disks: [new FixtureDisk(1 << 20)]))],
        };
        await using var alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha", Fixture = fixture });
        await using var beta = await SimHost.StartAsync(o => o with { PoolName = "beta", Fixture = fixture });
        using var system = ActorSystem.Create("mirror-cost-test", "akka.loglevel = WARNING");
        await using var mirrors = new PoolMirrors();
        var executor = new XapiRunExecutor(Registry(alpha, beta)) { Mirrors = mirrors };
        var vm = await alpha.UuidAsync("VM", "gen-00001");
        var targets = new[] { new TargetRef("beta", await beta.UuidAsync("SR", "Local storage")) };
        async Task RunAsync(string id)
        {
            var run = await executor.ExecuteAsync(new ReplicateVm(vm, id, "alpha", Job, targets,
                new ReplicationSettings { MaxUncoalescedVdis = 4 }), system.Materializer(), CancellationToken.None);
            Assert.True(run.Status == RunStatus.Success, run.Error);
            alpha.Pool.Collector.RunOnce();
            beta.Pool.Collector.RunOnce();
        }

        await RunAsync("warm-up");
        var (source, target) = (alpha.Pool.Stats.CallCounts(), beta.Pool.Stats.CallCounts());
        await RunAsync("measured");
        return (Delta(source, alpha.Pool.Stats.CallCounts()), Delta(target, beta.Pool.Stats.CallCounts()));
    }

    private static Dictionary<string, long> Delta(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after)
        => after.Select(p => (p.Key, Value: p.Value - before.GetValueOrDefault(p.Key))).Where(p => p.Value != 0)
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private static long Total(Dictionary<string, long> calls) => calls.Values.Sum();

    private static StaticPoolRegistry Registry(SimHost alpha, SimHost beta) => new(new Dictionary<string, XapiEndpoint>
    {
        ["alpha"] = XapiEndpoint.Parse($"http://root:password@{alpha.Url.Authority}"),
        ["beta"] = XapiEndpoint.Parse($"http://root:password@{beta.Url.Authority}"),
    });
}
