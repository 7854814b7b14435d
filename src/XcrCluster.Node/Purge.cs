using Akka.Actor;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Node;

/// <summary>What `--purge` and `xcr replica purge` remove from the pools, then make the VMs' entities forget.</summary>
internal static class Purge
{
    public sealed record Counts(int Snapshots, int RestorePoints, int Replicas);

    /// <summary>Everything a job left: its snapshots on the source pool, its restore points and replicas on every target SR.</summary>
    public static async Task<Counts> JobAsync(ActorRegistry registry, ClusterKey key, JobDefinition job, IReadOnlyList<string> vms)
    {
        var pools = new ControlPoolRegistry(() => registry.GetAsync<ControlPlane>(), key);
        int snapshots, points = 0, replicas = 0;
        await using (var source = await XapiClient.ConnectAsync(await pools.EndpointAsync(job.SourcePool)))
        {
            snapshots = await ReplicaPurge.SourceSnapshotsAsync(new Pool(source), job.Id, null);
        }

        foreach (var targets in job.Targets.GroupBy(t => t.Pool))
        {
            await using var client = await XapiClient.ConnectAsync(await pools.EndpointAsync(targets.Key));
            foreach (var target in targets)
            {
                var (p, r) = await ReplicaPurge.TargetAsync(new Pool(client), target.SrUuid, job.Id, null);
                (points, replicas) = (points + p, replicas + r);
            }
        }

        await ForgetAsync(registry, vms, job.Targets.Select(t => t.SrUuid));
        return new Counts(snapshots, points, replicas);
    }

    /// <summary>One VM's restore points and replica on the given SRs, whichever job made them; each SR is looked for
    /// on every registered pool.</summary>
    public static async Task<Counts> ReplicasAsync(ActorRegistry registry, ClusterKey key, string vm, IReadOnlyList<string> srs)
    {
        var pools = new ControlPoolRegistry(() => registry.GetAsync<ControlPlane>(), key);
        int points = 0, replicas = 0;
        var left = new HashSet<string>(srs, StringComparer.Ordinal);
        foreach (var pool in (await ControlApi.ControlAsync<PoolList>(registry, new GetPools())).Pools)
        {
            await using var client = await XapiClient.ConnectAsync(await pools.EndpointAsync(pool.Name));
            var here = (await client.GetAllRecordsAsync<SrRecord>()).Select(s => s.Uuid).Where(left.Contains).ToList();
            foreach (var sr in here)
            {
                var (p, r) = await ReplicaPurge.TargetAsync(new Pool(client), sr, null, new HashSet<string> { vm });
                (points, replicas) = (points + p, replicas + r);
                left.Remove(sr);
            }
        }

        await ForgetAsync(registry, [vm], srs);
        return new Counts(0, points, replicas);
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
