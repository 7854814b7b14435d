using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>A disk of a VM on the replica's pool, as a pair of records (plain properties: they cross nodes as JSON).</summary>
public sealed record FailbackVmDisk(VbdRecord Vbd, VdiRecord Vdi);

/// <summary>A restore point of the started replica and its disks.</summary>
public sealed record FailbackPoint(VmRecord Point, IReadOnlyList<FailbackVmDisk> Disks);

/// <summary>What a failback needs of the replica's pool: the started replica, its disks, its restore points newest first.</summary>
public sealed record FailbackReplicaSide(VmRecord Replica, IReadOnlyList<FailbackVmDisk> Disks, IReadOnlyList<FailbackPoint> Points);

/// <summary>The replica's pool as a failback sees it: read here over a session of this node (<see cref="PoolFailbackReplica"/>),
/// or by the agent of a pool served by another node, the deltas then coming over the data channel.</summary>
public interface IFailbackReplica
{
    string Name { get; }

    /// <summary>The started replica of <paramref name="vm"/>; a <see cref="RecoveryRefusedException"/> when there is none
    /// or several.</summary>
    Task<FailbackReplicaSide> ReadAsync(string vm, CancellationToken ct);

    /// <summary>Each disk's delta against the shared restore point, into <paramref name="deltas"/> by userdevice (the
    /// caller disposes them, also after a failure); the replica itself stays as it is.</summary>
    Task ReadDeltasAsync(FailbackBase found, IDictionary<string, DeltaBack.Delta> deltas, RecoveryLog log, CancellationToken ct);
}

/// <summary>The replica's pool over a session of this node.</summary>
public sealed class PoolFailbackReplica(Pool pool) : IFailbackReplica
{
    public string Name => pool.Name;

    public async Task<FailbackReplicaSide> ReadAsync(string vm, CancellationToken ct)
    {
        var vms = await pool.AllAsync<VmRecord>(ct).ConfigureAwait(false);
        var started = vms.Where(v => !v.IsASnapshot && !v.IsATemplate && v.OtherConfig.ContainsKey(XoMetadata.Sr)
            && v.OtherConfig.GetValueOrDefault(Failover.FailoverOfKey) == vm).ToList();
        var replica = started.Count switch
        {
            0 => throw new RecoveryRefusedException($"pool {pool.Name} has no started replica of VM {vm}: "
                + "fail over first (xcr failover start --force or xcr failover planned)"),
            1 => started[0],
            _ => throw new RecoveryRefusedException($"several started replicas of VM {vm} on pool {pool.Name}: "
                + string.Join(", ", started.Select(v => v.Uuid))),
        };
        var points = new List<FailbackPoint>();
        foreach (var point in vms.Where(v => v.IsASnapshot && v.SnapshotOf == replica.Ref).OrderByDescending(v => v.SnapshotTime))
        {
            points.Add(new FailbackPoint(point, await DisksAsync(point).ConfigureAwait(false)));
        }

        return new FailbackReplicaSide(replica, await DisksAsync(replica).ConfigureAwait(false), points);
    }

    /// <summary>A snapshot of the replica (its disks then stand still), each disk's delta against the shared restore point,
    /// the snapshot removed again: it is this command's own, the replica itself stays as it is.</summary>
    public async Task ReadDeltasAsync(FailbackBase found, IDictionary<string, DeltaBack.Delta> deltas, RecoveryLog log,
        CancellationToken ct)
    {
        var snapshotRef = await log.StepAsync($"snapshot replica {found.Replica.Uuid}",
            () => pool.SnapshotAsync(found.Replica.Ref, Failback.SnapshotLabel(found), ct)).ConfigureAwait(false);
        var snapshot = await pool.VmAsync(snapshotRef).ConfigureAwait(false);
        try
        {
            var now = (await pool.DisksAsync(snapshot).ConfigureAwait(false)).ToDictionary(d => d.Vbd.Userdevice);
            foreach (var disk in found.Disks)
            {
                deltas[disk.Userdevice] = await log.StepAsync($"read the blocks disk {disk.Userdevice} changed since restore point "
                    + found.Point.Uuid, () => DeltaBack.ExportAsync(pool, now[disk.Userdevice].Vdi.Ref, disk.PointVdi.Ref, ct))
                    .ConfigureAwait(false);
            }
        }
        finally
        {
            await pool.DestroyVmAsync(snapshot).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<FailbackVmDisk>> DisksAsync(VmRecord vm)
        => [.. (await pool.DisksAsync(vm).ConfigureAwait(false)).Select(d => new FailbackVmDisk(d.Vbd, d.Vdi))];
}
