using XcrCluster.Domain;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>A target SR of a run as the run sees it: on this node (<see cref="TargetSr"/> over its own XAPI
/// session) or behind the target pool's agent on another node. Every call is about this run's job and source VM.</summary>
public interface ITargetSide
{
    string SrUuid { get; }

    string SrName { get; }

    /// <summary>Removes what an interrupted run of this job and VM left on the SR; returns how many objects.</summary>
    Task<int> RemoveLeftoversAsync(CancellationToken ct);

    /// <summary>Finds, for each source snapshot disk, the disk on the SR holding the same content.</summary>
    Task FindBasesAsync(IReadOnlyList<string> snapshotVdiUuids, CancellationToken ct);

    /// <summary>Xen Orchestra 6.5's content-key lookup (xo-cr-semantics §2.6): replaces the bases found by
    /// <see cref="FindBasesAsync"/> with the restore point disks holding each queried snapshot's content, and decides again
    /// whether the replica holding them is updated in place.</summary>
    Task FindBasesByContentAsync(IReadOnlyList<ContentSnapshotDisk> queries, CancellationToken ct);

    bool HasBase(string snapshotVdiUuid);

    /// <summary>After <see cref="FindBasesAsync"/>: why the replica found could not be continued in place (started,
    /// changed, deleted), if it could not; the run's log says it.</summary>
    string? ReplicaNote { get; }

    /// <summary>The disk this run imports into (a clone of the base, or new); returns its id on the target pool.</summary>
    Task<string> PrepareDiskAsync(VdiRecord source, string? baseSnapshotVdiUuid);

    /// <summary>Where the blocks of one disk go; <paramref name="imported"/> gets the bytes once the import is done.</summary>
    BlockFanOut.TargetSink ImportTo(string targetDisk, Action<long> imported, CancellationToken ct);

    Task<(string TargetVm, string RestorePoint)> CommitAsync(TargetCommit commit);

    /// <summary>Undoes what this run made on the SR; the live target and earlier restore points stay as they were.</summary>
    Task RollBackAsync();

    /// <summary>deleteFirst: removes this schedule's oldest restore points of the VM so that <paramref name="keep"/> stay;
    /// returns the uuids of those that went.</summary>
    Task<IReadOnlyList<string>> PruneAsync(int keep, CancellationToken ct);

    /// <summary>Copies a restore point to an SR, starts the copy on no network, waits for its guest to answer, destroys
    /// it; returns what was seen. Throws when the guest does not answer within <paramref name="timeout"/>.</summary>
    Task<string> HealthCheckAsync(string restorePointUuid, string srUuid, TimeSpan timeout, CancellationToken ct);
}

/// <summary>Where a run's targets come from: a pool and one of its SRs, opened for one run.</summary>
public interface ITargetSpec
{
    string PoolName { get; }

    IPoolGate Gate { get; }

    string SrUuid { get; }

    Task<ITargetSide> OpenAsync(JobRef job, string sourceVmUuid, string sourceVmName, CancellationToken ct);
}

/// <summary>A target on this node: a pool we hold a session to, and one of its SRs.</summary>
public sealed record TargetSpec(Pool Pool, string SrUuid) : ITargetSpec
{
    public string PoolName => Pool.Name;

    public IPoolGate Gate => Pool.Gate;

    public async Task<ITargetSide> OpenAsync(JobRef job, string sourceVmUuid, string sourceVmName, CancellationToken ct)
    {
        Pool.ReadFromNow();
        var sr = await Pool.RecordAsync<SrRecord>(await Pool.SrRefAsync(SrUuid, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        return new TargetSr(Pool, sr, job, sourceVmUuid, sourceVmName);
    }
}

/// <summary>Everything a target needs to commit: the source snapshot (its record for a new replica), the disks
/// (source snapshot VBD and VDI, and the target disk they went to), the source VIFs with their networks, and the
/// figures for the metadata.</summary>
public sealed record TargetCommit(VmRecord Snapshot, IReadOnlyDictionary<string, object?> SnapshotRecord, IReadOnlyList<TargetDisk> Disks,
    IReadOnlyList<SourceVif> Vifs, DateTimeOffset TransferStart, long BytesRead, int CopyRetention)
{
    /// <summary>The job's network mapping (source network uuid to target network uuid), before the automatic rule.</summary>
    public IReadOnlyDictionary<string, string>? NetworkMapping { get; init; }

    /// <summary>The snapshot's vTPMs with their contents; null leaves the replica's as they are.</summary>
    public IReadOnlyList<SourceVtpm>? Vtpms { get; init; }
}

public sealed record TargetDisk(VbdRecord Vbd, VdiRecord Source, string Target);

public sealed record SourceVif(VifRecord Record, NetworkInfo? Network);

/// <summary>A target on another node reported a failure; the message is the target's.</summary>
public sealed class TargetFailedException(string message) : Exception(message);
