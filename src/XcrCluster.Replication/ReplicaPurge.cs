using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// Removes what replication left on the pools when an operator asks for it (`xcr job delete --purge`,
/// `xcr replica purge`): a job's snapshots on the source, and restore points with their live replica on a target
/// SR. Objects are found by Xen Orchestra's metadata, so replicas made by Xen Orchestra for the same job go too.
/// </summary>
public static class ReplicaPurge
{
    /// <summary>The job's snapshots of the given VMs (all when null) on the source pool; never a replica (xo:copy_of
    /// marks those, and a replica of a replica is another job's business).</summary>
    public static async Task<int> SourceSnapshotsAsync(Pool source, string jobId, IReadOnlySet<string>? vms)
    {
        var snapshots = (await source.AllAsync<VmRecord>().ConfigureAwait(false)).Where(v => v.IsASnapshot
            && v.OtherConfig.GetValueOrDefault(XoMetadata.Job) == jobId && !v.OtherConfig.ContainsKey(XoMetadata.CopyOf)
            && Matches(v, vms)).ToList();
        foreach (var snapshot in snapshots)
        {
            await source.DestroyVmAsync(snapshot).ConfigureAwait(false);
        }

        return snapshots.Count;
    }

    /// <summary>The restore points on the SR of a job (any job when null) for the given source VMs (all when null),
    /// then each live replica they were taken of once no other restore point hangs on it.</summary>
    public static async Task<(int RestorePoints, int Replicas)> TargetAsync(Pool target, string srUuid, string? jobId,
        IReadOnlySet<string>? vms)
    {
        var all = await target.AllAsync<VmRecord>().ConfigureAwait(false);
        var points = all.Where(v => v.IsASnapshot && v.OtherConfig.GetValueOrDefault(XoMetadata.Sr) == srUuid
            && v.OtherConfig.ContainsKey(XoMetadata.CopyOf)
            && (jobId is null || v.OtherConfig.GetValueOrDefault(XoMetadata.Job) == jobId) && Matches(v, vms)).ToList();
        foreach (var point in points)
        {
            await target.DestroyVmAsync(point).ConfigureAwait(false);
        }

        var replicas = 0;
        foreach (var live in points.Select(p => p.SnapshotOf).Distinct().Where(r => all.Any(v => v.Ref == r)))
        {
            var vm = await target.VmAsync(live).ConfigureAwait(false);

            // A replica someone started or released (its start no longer blocked by replication) is theirs now.
            if (vm.Snapshots.Count == 0 && vm.PowerState == "Halted"
                && vm.BlockedOperations.GetValueOrDefault("start") == XoMetadata.StartBlocked)
            {
                await target.DestroyVmAsync(vm).ConfigureAwait(false);
                replicas++;
            }
        }

        return (points.Count, replicas);
    }

    private static bool Matches(VmRecord v, IReadOnlySet<string>? vms)
        => vms is null || vms.Contains(v.OtherConfig.GetValueOrDefault(XoMetadata.Vm) ?? "");
}
