using XcrCluster.DataChannel;
using XcrCluster.Domain;
using XcrCluster.Domain.Pools;
using XcrCluster.Replication;
using XcrCluster.Vhd;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Actors;

/// <summary>A run's work on a target SR, sent to the target pool's agent (which may be on another node). One
/// session per run and SR; each request gets one reply, <see cref="TargetFailed"/> when it failed.</summary>
public interface ITargetMessage : IPoolAgentMessage
{
    string Session { get; }
}

/// <summary>A step the run asks of its target session.</summary>
public interface ITargetRequest : ITargetMessage
{
}

/// <summary>The session's answer to one step: the step's own typed reply, or <see cref="TargetFailed"/>.</summary>
public interface ITargetReply : ITargetMessage
{
}

public sealed record OpenTarget(string Pool, string Session, JobRef Job, string VmUuid, string VmName, string SrUuid) : ITargetRequest;

public sealed record TargetOpened(string Pool, string Session, string SrName) : ITargetReply;

public sealed record RemoveTargetLeftovers(string Pool, string Session) : ITargetRequest;

public sealed record FindTargetBases(string Pool, string Session, IReadOnlyList<string> SnapshotVdiUuids) : ITargetRequest;

/// <summary>The content-key fallback's lookup (xo-cr-semantics §2.6); answered with <see cref="BasesFound"/>.</summary>
public sealed record FindTargetBasesByContent(string Pool, string Session, IReadOnlyList<ContentSnapshotDisk> Queries) : ITargetRequest;

public sealed record PrepareTargetDisk(string Pool, string Session, VdiRecord Source, string? BaseSnapshotVdiUuid) : ITargetRequest;

/// <summary>Asks the agent to expect one disk's blocks on its node's data channel; the reply carries the ticket.</summary>
public sealed record ExpectTargetImport(string Pool, string Session, string Disk, VhdShape Shape) : ITargetRequest;

public sealed record TargetImportTicket(string Pool, string Session, ChannelTicket Ticket) : ITargetReply;

public sealed record CommitTarget(string Pool, string Session, TargetCommit Commit) : ITargetRequest;

public sealed record RollBackTarget(string Pool, string Session) : ITargetRequest;

public sealed record PruneTarget(string Pool, string Session, int Keep) : ITargetRequest;

public sealed record HealthCheckTarget(string Pool, string Session, string RestorePointUuid, string SrUuid, TimeSpan Timeout)
    : ITargetRequest;

public sealed record CloseTarget(string Pool, string Session) : ITargetRequest;

/// <summary>How many objects an interrupted run of this job and VM had left on the SR (removed or repaired).</summary>
public sealed record LeftoversRemoved(string Pool, string Session, int Count) : ITargetReply;

/// <summary>The source snapshot disks the SR holds a base for, and why the replica found is not continued in place, if it
/// is not.</summary>
public sealed record BasesFound(string Pool, string Session, IReadOnlyList<string> SnapshotVdiUuids, string? ReplicaNote)
    : ITargetReply;

/// <summary>The disk on the target pool this run imports into.</summary>
public sealed record DiskPrepared(string Pool, string Session, string Disk) : ITargetReply;

/// <summary>The replica VM and its new restore point: the target committed.</summary>
public sealed record ReplicaCommitted(string Pool, string Session, string ReplicaVm, string RestorePoint) : ITargetReply;

public sealed record TargetRolledBack(string Pool, string Session) : ITargetReply;

/// <summary>The old restore points that went (deleteFirst).</summary>
public sealed record TargetPruned(string Pool, string Session, IReadOnlyList<string> RestorePoints) : ITargetReply;

/// <summary>What the health check saw of the copy's guest.</summary>
public sealed record HealthChecked(string Pool, string Session, string Seen) : ITargetReply;

public sealed record TargetFailed(string Pool, string Session, string Error) : ITargetReply;
