using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace XcrCluster.Domain.Vm;

/// <summary>One chain of a VM: what a job's schedule keeps on one target SR (retention counts per schedule and SR).</summary>
public sealed record ChainKey(JobId JobId, ScheduleId ScheduleId, SrId SrUuid);

/// <summary>A restore point on a target SR: the replica's snapshot, when it was taken, and its size (the bytes its run
/// sent, or the pool's physical utilisation of its disks when it was found on the pool).</summary>
public sealed record RestorePoint(string Uuid, DateTimeOffset? SnapshotTime, long Size);

/// <summary>What the entity knows of one chain: the replica VM, the restore points (oldest first), the source snapshot
/// the last run exported into it (the next delta's base) and the delta-chain length since the last full.</summary>
public sealed record ReplicaChain(ChainKey Key, string Pool, string? ReplicaVmUuid, ImmutableList<RestorePoint> RestorePoints,
    string? BaseSnapshotUuid, int? DeltaChainLength);

/// <summary>A restore point of the VM as a target pool shows it (Xen Orchestra's metadata, docs/xen-orchestra.md §2 and
/// §10): its job and schedule, its time, its size, the source snapshot it is a copy of (<c>xo:copy_of</c>) and the
/// replica it was taken of, if that VM still exists.</summary>
public sealed record ObservedRestorePoint(string Uuid, string JobId, string ScheduleId, DateTimeOffset? SnapshotTime, long Size,
    string? CopyOf, string? ReplicaVmUuid);

/// <summary>What one target SR holds for the VM: every restore point of any job, and which of the replica VMs asked
/// about still exist there.</summary>
public sealed record SrObservation(string Pool, string SrUuid, IReadOnlyList<ObservedRestorePoint> RestorePoints,
    IReadOnlyList<string> LiveReplicas);

/// <summary>A target SR that could not be read: the run goes on with the model as it was.</summary>
public sealed record SrReadFailure(string Pool, string SrUuid, string Reason);

/// <summary>How the pools differ from the model.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ChainDifferenceKind>))]
public enum ChainDifferenceKind
{
    /// <summary>A restore point the model knew is gone (deleted by hand or by another tool).</summary>
    RestorePointDeleted,

    /// <summary>A restore point the model did not know (made by Xen Orchestra or another tool).</summary>
    RestorePointAdded,

    /// <summary>The chain's replica VM is gone.</summary>
    ReplicaDeleted,

    /// <summary>The restore point of the source snapshot last exported is gone: the next delta cannot start from it.</summary>
    ChainBroken,
}

/// <summary>One difference found on a chain; <paramref name="Subject"/> is the restore point, replica or snapshot uuid.</summary>
public sealed record ChainDifference(ChainDifferenceKind Kind, ChainKey Chain, string Subject, string Message);
