namespace XcrCluster.Domain.Vm;

/// <summary>What the entity persists: the run's course and the milestones of its chains.</summary>
public interface IReplicatedVmEvent : IReplicatedVmMessage
{
}

public sealed record RunStarted(string VmUuid, ReplicateVm Request, DateTimeOffset At) : IReplicatedVmEvent;

public sealed record RunQueued(string VmUuid, ReplicateVm Request, DateTimeOffset At) : IReplicatedVmEvent;

/// <summary>A held request's turn came (the job's concurrency).</summary>
public sealed record RunReleased(string VmUuid, string RunId, DateTimeOffset At) : IReplicatedVmEvent;

/// <summary>A held request never got its turn (its coordinator went away): recorded as a failed run that made nothing.</summary>
public sealed record HeldRunDropped(string VmUuid, string RunId, string Reason, DateTimeOffset At) : IReplicatedVmEvent;

public sealed record RunFinished(string VmUuid, string JobId, RunResult Result, DateTimeOffset At) : IReplicatedVmEvent;

/// <summary>A run the node lost (crash, kill -9) is recorded as interrupted when the entity recovers.</summary>
public sealed record RunInterrupted(string VmUuid, string RunId, string JobId, DateTimeOffset At) : IReplicatedVmEvent;

public sealed record ReplicasForgotten(string VmUuid, string? SrUuid, DateTimeOffset At) : IReplicatedVmEvent;

/// <summary>At a run's start the pools' view of the run's target SRs differed from the model (or could not be read):
/// the chains of those SRs become what the pools hold, and each difference and failed read is a warning of the run.</summary>
public sealed record ChainsReconciled(string VmUuid, string RunId, IReadOnlyList<SrObservation> Observed,
    IReadOnlyList<ChainDifference> Differences, IReadOnlyList<SrReadFailure> Failures, DateTimeOffset At) : IReplicatedVmEvent;

/// <summary>A target committed the run: its new restore point, taken of the replica VM.</summary>
public sealed record TargetCommitted(string VmUuid, string RunId, ChainKey Chain, string Pool, string? ReplicaVmUuid,
    RestorePoint RestorePoint) : IReplicatedVmEvent;

/// <summary>The chain's base is now the source snapshot this run exported; its length 0 after a full, one more
/// per delta (null when the previous length is unknown).</summary>
public sealed record ChainAdvanced(string VmUuid, string RunId, ChainKey Chain, string? BaseSnapshotUuid, int? DeltaChainLength)
    : IReplicatedVmEvent;

/// <summary>Retention removed these restore points (the newest copyRetention of the schedule are kept).</summary>
public sealed record RestorePointsPruned(string VmUuid, string RunId, ChainKey Chain, IReadOnlyList<string> RestorePointUuids)
    : IReplicatedVmEvent;

/// <summary>Milestone of the current run: its source snapshot exists (what an interrupted run left on the source pool).</summary>
public sealed record SnapshotTaken(string VmUuid, string RunId, string SnapshotUuid, DateTimeOffset At) : IReplicatedVmEvent;

/// <summary>Milestone of the current run: one disk's blocks all reached one target SR (its import there is marked until
/// the target commits).</summary>
public sealed record DiskTransferred(string VmUuid, string RunId, string Disk, string SrUuid, long Bytes, DateTimeOffset At)
    : IReplicatedVmEvent;
