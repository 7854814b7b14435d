namespace XcrCluster.Domain.Vm;

/// <summary>The id every message of the ReplicatedVm entity carries: the shard extractor routes by <see cref="VmUuid"/>
/// and the serializer is bound to this interface. The messages themselves come in separate families: commands
/// (<see cref="IReplicatedVmCommand"/>), queries (<see cref="IReplicatedVmQuery"/>), replies (<see cref="IReplicatedVmReply"/>)
/// and persisted events (<see cref="IReplicatedVmEvent"/>).</summary>
public interface IReplicatedVmMessage
{
    string VmUuid { get; }
}

/// <summary>Asks the entity to change something.</summary>
public interface IReplicatedVmCommand : IReplicatedVmMessage
{
}

/// <summary>Asks the entity what it knows; changes nothing.</summary>
public interface IReplicatedVmQuery : IReplicatedVmMessage
{
}

/// <summary>What the entity answers to a command (a query is answered with the state).</summary>
public interface IReplicatedVmReply : IReplicatedVmMessage
{
}

/// <summary>A target of a job: a registered pool by name and one of its SRs.</summary>
public sealed record TargetRef(string Pool, string SrUuid);

/// <summary>Replicate this VM now for a job and schedule (from the scheduler or "run now").</summary>
public sealed record ReplicateVm(string VmUuid, string RunId, string SourcePool, JobRef Job, IReadOnlyList<TargetRef> Targets,
    ReplicationSettings Settings) : IReplicatedVmCommand
{
    /// <summary>Queued until its run's coordinator gives it a slot (<see cref="ReleaseRun"/>): the job's concurrency.</summary>
    public bool Held { get; init; }
}

/// <summary>The VM's restore points on an SR (every SR when null) were purged from the pools: forget them.</summary>
public sealed record ForgetReplicas(string VmUuid, string? SrUuid) : IReplicatedVmCommand;

/// <summary>What the entity knows: current and queued runs, history, replica chains, RPO. The reply is the
/// <see cref="ReplicatedVmState"/>.</summary>
public sealed record GetVmStatus(string VmUuid) : IReplicatedVmQuery;

/// <summary>The VM's turn in its run came (the job's concurrency): its held request may start.</summary>
public sealed record ReleaseRun(string VmUuid, string RunId) : IReplicatedVmCommand;

/// <summary>From the run's coordinator, now and then: it is still there (a held request whose coordinator says nothing for
/// a while is dropped), and what is the VM's part in the run now.</summary>
public sealed record WatchRun(string VmUuid, string RunId) : IReplicatedVmQuery;

/// <summary>Reply to <see cref="ReleaseRun"/> and <see cref="WatchRun"/>, and told to the coordinator when the VM's part
/// ends: <see cref="ReplicatedVmState.StatusOf"/> (null: the entity does not know the run).</summary>
public sealed record RunTurn(string VmUuid, string RunId, string? Status) : IReplicatedVmReply;

/// <summary>Replies to <see cref="ReplicateVm"/>.</summary>
public sealed record RunAccepted(string VmUuid, string RunId, bool Queued) : IReplicatedVmReply;

public sealed record RunRejected(string VmUuid, string RunId, string Reason) : IReplicatedVmReply;

/// <summary>Reply to <see cref="ForgetReplicas"/>: the chains on the SR (every SR when null) are forgotten.</summary>
public sealed record ReplicasForgottenReply(string VmUuid, string? SrUuid) : IReplicatedVmReply;
