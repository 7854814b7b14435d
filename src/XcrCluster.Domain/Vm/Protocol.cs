namespace XcrCluster.Domain.Vm;

/// <summary>Every message of the ReplicatedVm entity: the shard extractor routes by <see cref="VmUuid"/> and the
/// serializer is bound to this interface.</summary>
public interface IReplicatedVmMessage
{
    string VmUuid { get; }
}

/// <summary>A target of a job: a registered pool by name and one of its SRs.</summary>
public sealed record TargetRef(string Pool, string SrUuid);

/// <summary>Replicate this VM now for a job and schedule (from the scheduler or "run now").</summary>
public sealed record ReplicateVm(string VmUuid, string RunId, string SourcePool, JobRef Job, IReadOnlyList<TargetRef> Targets, ReplicationSettings Settings)
    : IReplicatedVmMessage;

/// <summary>What the VM entity knows: current and queued runs, history, restore points, RPO.</summary>
public sealed record GetVmStatus(string VmUuid) : IReplicatedVmMessage;

/// <summary>The VM's restore points on an SR (every SR when null) were purged from the pools: forget them.</summary>
public sealed record ForgetReplicas(string VmUuid, string? SrUuid) : IReplicatedVmMessage;

/// <summary>Replies to <see cref="ReplicateVm"/>.</summary>
public sealed record RunAccepted(string VmUuid, string RunId, bool Queued) : IReplicatedVmMessage;

public sealed record RunRejected(string VmUuid, string RunId, string Reason) : IReplicatedVmMessage;

/// <summary>How a run ended, as the entity records it (the engine's report, flattened to stable data).</summary>
public sealed record RunResult(string RunId, string Status, string? Error, bool Full, string? SourceSnapshotUuid,
    IReadOnlyList<TargetResult> Targets, IReadOnlyList<LogLine> Log);

public sealed record TargetResult(string SrUuid, bool Succeeded, string? Error, string? TargetVmUuid, string? RestorePointUuid, long BytesSent);

public sealed record LogLine(string Name, string Status, DateTimeOffset Start, DateTimeOffset End, long? Size, string? Message, string? Target);

/// <summary>Events the entity persists.</summary>
public interface IReplicatedVmEvent : IReplicatedVmMessage
{
}

public sealed record RunStarted(string VmUuid, ReplicateVm Request, DateTimeOffset At) : IReplicatedVmEvent;

public sealed record RunQueued(string VmUuid, ReplicateVm Request, DateTimeOffset At) : IReplicatedVmEvent;

public sealed record RunFinished(string VmUuid, string JobId, RunResult Result, DateTimeOffset At) : IReplicatedVmEvent;

/// <summary>A run the node lost (crash, kill -9) is recorded as interrupted when the entity recovers.</summary>
public sealed record RunInterrupted(string VmUuid, string RunId, string JobId, DateTimeOffset At) : IReplicatedVmEvent;

public sealed record ReplicasForgotten(string VmUuid, string? SrUuid, DateTimeOffset At) : IReplicatedVmEvent;
