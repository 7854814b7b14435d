using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication.Recovery;

/// <summary>One disk of a failback, by userdevice: the running replica's disk and its snapshot in the shared restore
/// point, the original VM's disk and its source snapshot holding the same content.</summary>
public sealed record FailbackDisk(string Userdevice, VdiRecord ReplicaLive, VdiRecord PointVdi, VdiRecord OriginalLive,
    VdiRecord SourceSnapshotVdi);

/// <summary>What a failback acts on: the started replica, the original VM, the newest snapshot both sides share (the
/// replica's restore point and the source snapshot it holds) and the disks paired.</summary>
public sealed record FailbackBase(VmRecord Replica, VmRecord Original, VmRecord Point, VmRecord SourceSnapshot,
    IReadOnlyList<FailbackDisk> Disks)
{
    /// <summary>Finds it, every check before any change; a <see cref="RecoveryRefusedException"/> says what is missing.
    /// The shared snapshot is found as Xen Orchestra 6.5's reverse replication finds its base (docs/xen-orchestra.md §2.5
    /// step 4, §2.6, §9): a replica snapshot VDI's <c>xo:backup:contentKey</c> is the uuid of the source snapshot VDI whose
    /// content it holds; that source snapshot must still be a snapshot of the original's disk at the same userdevice.</summary>
    public static async Task<FailbackBase> FindAsync(IFailbackReplica replicaPool, Pool sourcePool, string vm, CancellationToken ct)
    {
        var side = await replicaPool.ReadAsync(vm, ct).ConfigureAwait(false);
        var (replica, replicaDisks) = (side.Replica, side.Disks);
        var sourceVms = await sourcePool.AllAsync<VmRecord>(ct).ConfigureAwait(false);
        var original = sourceVms.FirstOrDefault(v => v.Uuid == vm && !v.IsASnapshot)
            ?? throw new RecoveryRefusedException($"the original VM {vm} does not exist on pool {sourcePool.Name}");
        var originalDisks = (await sourcePool.DisksAsync(original).ConfigureAwait(false)).ToDictionary(d => d.Vbd.Userdevice);
        foreach (var (vbd, vdi) in replicaDisks.Select(d => (d.Vbd, d.Vdi)))
        {
            if (!originalDisks.TryGetValue(vbd.Userdevice, out var other) || other.Vdi.VirtualSize != vdi.VirtualSize)
            {
                throw new RecoveryRefusedException($"the replica's disk {vbd.Userdevice} has no disk of the same size on the original VM");
            }
        }

        var sourceVdis = (await sourcePool.AllAsync<VdiRecord>(ct).ConfigureAwait(false)).ToDictionary(v => v.Uuid);
        foreach (var (point, pointDisks) in side.Points.Select(p => (p.Point, p.Disks)))
        {
            var disks = Shared(pointDisks, replicaDisks, originalDisks, sourceVdis);
            var sourceSnapshot = sourceVms.FirstOrDefault(v => v.IsASnapshot && v.SnapshotOf == original.Ref
                && v.Uuid == point.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf));
            if (disks is not null && sourceSnapshot is not null)
            {
                return new FailbackBase(replica, original, point, sourceSnapshot, disks);
            }
        }

        throw new RecoveryRefusedException($"replica {replica.Uuid} and VM {vm} share no snapshot (no restore point of the replica "
            + "holds a source snapshot still on the original): only a full copy could fail back");
    }

    /// <summary>The disks of a replica snapshot paired with the source snapshot disks of the same content, or null when one
    /// disk has no such partner.</summary>
    private static List<FailbackDisk>? Shared(IReadOnlyList<FailbackVmDisk> point, IReadOnlyList<FailbackVmDisk> replicaDisks,
        Dictionary<string, (VbdRecord Vbd, VdiRecord Vdi)> originalDisks, Dictionary<string, VdiRecord> sourceVdis)
    {
        var pointDisks = point.ToDictionary(d => d.Vbd.Userdevice);
        var pairs = new List<FailbackDisk>();
        foreach (var (vbd, live) in replicaDisks.Select(d => (d.Vbd, d.Vdi)))
        {
            if (!pointDisks.TryGetValue(vbd.Userdevice, out var snap) || snap.Vdi.SnapshotOf != live.Ref
                || snap.Vdi.OtherConfig.GetValueOrDefault(XoMetadata.ContentKey) is not { } key
                || !sourceVdis.TryGetValue(key, out var source) || !source.IsASnapshot
                || source.SnapshotOf != originalDisks[vbd.Userdevice].Vdi.Ref)
            {
                return null;
            }

            pairs.Add(new FailbackDisk(vbd.Userdevice, live, snap.Vdi, originalDisks[vbd.Userdevice].Vdi, source));
        }

        return pairs;
    }
}
