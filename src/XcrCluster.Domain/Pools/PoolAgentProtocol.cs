namespace XcrCluster.Domain.Pools;

/// <summary>Every message of a pool agent, by pool name (one agent singleton per registered pool); the
/// serializer is bound to it.</summary>
public interface IPoolAgentMessage
{
    string Pool { get; }
}

/// <summary>What a pool limits across all jobs: snapshots at once, and VDI exports plus imports at once.</summary>
public enum SlotKind
{
    Snapshot,
    Transfer,
}

/// <summary>Asks for <paramref name="Count"/> slots of a kind at once (a run takes what one step needs in one
/// request, pools in name order, so runs never deadlock each other). <paramref name="OwnerNode"/> is the
/// requesting node's address: if that node leaves, its leases are released.</summary>
public sealed record AcquireSlots(string Pool, SlotKind Kind, int Count, string LeaseId, string OwnerNode) : IPoolAgentMessage;

public sealed record SlotsGranted(string Pool, string LeaseId) : IPoolAgentMessage;

/// <summary>The request waited longer than the pool's <see cref="PoolLimits.MaxWait"/> and was dropped.</summary>
public sealed record SlotsRefused(string Pool, string LeaseId, string Reason) : IPoolAgentMessage;

/// <summary>Gives a lease back, or withdraws a request still waiting.</summary>
public sealed record ReleaseSlots(string Pool, string LeaseId) : IPoolAgentMessage;

public sealed record GetPoolLoad(string Pool) : IPoolAgentMessage;

/// <summary>A pool's slots in use and waiting, and the node its agent runs on.</summary>
public sealed record PoolLoad(string Pool, int SnapshotsInUse, int TransfersInUse, int Waiting, string Node = "") : IPoolAgentMessage;

/// <summary>Asks the pool's agent to read the pool live: the reply is a <see cref="PoolInventory"/> or
/// <see cref="InventoryFailed"/>.</summary>
public sealed record GetInventory(string Pool) : IPoolAgentMessage;

/// <summary>The pool could not be read (unreachable, refused the login, timed out, or the agent's node has no XAPI access).</summary>
public sealed record InventoryFailed(string Pool, string Reason) : IPoolAgentMessage;

/// <summary>Asks the pool's agent what one SR holds for a source VM: every restore point (any job, by Xen Orchestra's
/// metadata) and which of <paramref name="KnownReplicas"/> (replica VM uuids) still exist. The reply is
/// <see cref="SrReplicas"/> or <see cref="SrReplicasFailed"/>.</summary>
public sealed record GetSrReplicas(string Pool, string SrUuid, string VmUuid, IReadOnlyList<string> KnownReplicas) : IPoolAgentMessage;

public sealed record SrReplicas(string Pool, XcrCluster.Domain.Vm.SrObservation Observation) : IPoolAgentMessage;

/// <summary>The SR could not be read (pool unreachable, timed out, the agent's node has no XAPI access).</summary>
public sealed record SrReplicasFailed(string Pool, string SrUuid, string Reason) : IPoolAgentMessage;

/// <summary>Removes from the pool what replication left (`xcr job delete --purge`, `xcr replica purge`), on the node serving
/// it: with <paramref name="SrUuid"/>, the restore points on that SR of <paramref name="JobId"/> (any job when null) for
/// <paramref name="Vms"/> (every VM when null) and their live replicas; without, the job's snapshots on this source pool.
/// The reply is <see cref="PoolPurged"/> or <see cref="PurgeFailed"/>.</summary>
public sealed record PurgeOnPool(string Pool, string? SrUuid, string? JobId, IReadOnlyList<string>? Vms) : IPoolAgentMessage;

public sealed record PoolPurged(string Pool, string? SrUuid, int Snapshots, int RestorePoints, int Replicas) : IPoolAgentMessage;

public sealed record PurgeFailed(string Pool, string? SrUuid, string Reason) : IPoolAgentMessage;

/// <summary>Before a pool is stored, a node serving it (role <c>pool-NAME</c>, else <c>pool-all</c>) logs in with what is
/// about to be stored (the password sealed with the cluster key): a pool's XAPI is reached only from the nodes serving it.
/// <paramref name="Forwarded"/>: sent on by another node, so checked where it lands.</summary>
public sealed record CheckPoolLogin(string Pool, Control.PoolRegistration Registration, bool Forwarded = false) : IPoolAgentMessage;

/// <summary>The login's outcome: null, or why not (XAPI's words, the connection's, or no node serving the pool), and the
/// node that tried.</summary>
public sealed record PoolLoginChecked(string Pool, string? Error, string Node) : IPoolAgentMessage;

/// <summary>Runs one VM's part of a recovery command (failover, seeding, failback) on the node serving the pool; the reply
/// is a <see cref="RecoveryStepDone"/> whatever happened (a failure is an outcome with its reason).</summary>
public sealed record RunRecoveryStep(string Pool, Recovery.IRecoveryStep Step) : IPoolAgentMessage
{
    /// <summary>Log in with this instead of the registered login (the password sealed with the cluster key, as in
    /// <see cref="CheckPoolLogin"/>): `xcr seed` with credentials in its URLs, as xo-cr-seed takes them.</summary>
    public Control.PoolRegistration? Login { get; init; }
}

public sealed record RecoveryStepDone(string Pool, Recovery.RecoveryVmOutcome Outcome) : IPoolAgentMessage;
