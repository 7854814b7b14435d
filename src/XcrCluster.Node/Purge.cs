using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Node;

/// <summary>What `--purge` and `xcr replica purge` remove from the pools — each pool's part by its agent, on the node
/// serving that pool (<see cref="PurgeOnPool"/>) — then make the VMs' entities forget.</summary>
internal static class Purge
{
    public sealed record Counts(int Snapshots, int RestorePoints, int Replicas);

    /// <summary>Everything a job left: its snapshots on the source pool, its restore points and replicas on every target SR.</summary>
    public static async Task<Counts> JobAsync(ActorRegistry registry, JobDefinition job, IReadOnlyList<string> vms)
    {
        var snapshots = (await OnPoolAsync(registry, new PurgeOnPool(job.SourcePool, null, job.Id, null))).Snapshots;
        int points = 0, replicas = 0;
        foreach (var target in job.Targets)
        {
            var purged = await OnPoolAsync(registry, new PurgeOnPool(target.Pool, target.SrUuid, job.Id, null));
            (points, replicas) = (points + purged.RestorePoints, replicas + purged.Replicas);
        }

        await ForgetAsync(registry, vms, job.Targets.Select(t => t.SrUuid));
        return new Counts(snapshots, points, replicas);
    }

    /// <summary>One VM's restore points and replica on the given SRs (each on the pool the VM's chains name), whichever job
    /// made them.</summary>
    public static async Task<Counts> ReplicasAsync(ActorRegistry registry, string vm, IReadOnlyList<TargetRef> srs)
    {
        int points = 0, replicas = 0;
        foreach (var target in srs)
        {
            var purged = await OnPoolAsync(registry, new PurgeOnPool(target.Pool, target.SrUuid, null, [vm]));
            (points, replicas) = (points + purged.RestorePoints, replicas + purged.Replicas);
        }

        await ForgetAsync(registry, [vm], srs.Select(s => s.SrUuid));
        return new Counts(0, points, replicas);
    }

    /// <summary>The pool's agent does the purge; a failure is the pool's (502), no answer the agent's (503).</summary>
    private static async Task<PoolPurged> OnPoolAsync(ActorRegistry registry, PurgeOnPool purge)
    {
        var agents = await registry.GetAsync<PoolAgents>();
        var wait = AgentPurge.Timeout + TimeSpan.FromSeconds(10);
        try
        {
            return await agents.Ask<IPoolAgentMessage>(purge, wait) switch
            {
                PoolPurged purged => purged,
                // An IOException is what ErrorReply answers 502 for, with the pool's reason.
                PurgeFailed failed => throw new IOException($"pool {failed.Pool}: {failed.Reason}"),
                var other => throw new InvalidOperationException($"pool {purge.Pool}'s agent answered {other.GetType().Name}"),
            };
        }
        catch (AskTimeoutException)
        {
            throw new PartTimeoutException($"pool {purge.Pool}'s agent", wait);
        }
    }

    private static async Task ForgetAsync(ActorRegistry registry, IEnumerable<string> vms, IEnumerable<string> srs)
    {
        var known = (await ControlApi.ControlAsync<Known>(registry, new GetKnown())).Vms;
        var region = await registry.GetAsync<ReplicatedVmRegion>();
        foreach (var vm in vms.Where(known.Contains))
        {
            foreach (var sr in srs.Distinct())
            {
                await ControlApi.AskPartAsync<IReplicatedVmMessage>(region, new ForgetReplicas(vm, sr), "the replicated-vm region");
            }
        }
    }
}
