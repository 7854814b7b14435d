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

public sealed record OpenTarget(string Pool, string Session, JobRef Job, string VmUuid, string VmName, string SrUuid) : ITargetMessage;

public sealed record TargetOpened(string Pool, string Session, string SrName) : ITargetMessage;

public sealed record RemoveTargetLeftovers(string Pool, string Session) : ITargetMessage;

public sealed record FindTargetBases(string Pool, string Session, IReadOnlyList<string> SnapshotVdiUuids) : ITargetMessage;

public sealed record PrepareTargetDisk(string Pool, string Session, VdiRecord Source, string? BaseSnapshotVdiUuid) : ITargetMessage;

/// <summary>Asks the agent to expect one disk's blocks on its node's data channel; the reply carries the ticket.</summary>
public sealed record ExpectTargetImport(string Pool, string Session, string Disk, VhdShape Shape) : ITargetMessage;

public sealed record TargetImportTicket(string Pool, string Session, ChannelTicket Ticket) : ITargetMessage;

public sealed record CommitTarget(string Pool, string Session, TargetCommit Commit) : ITargetMessage;

public sealed record RollBackTarget(string Pool, string Session) : ITargetMessage;

public sealed record PruneTarget(string Pool, string Session, int Keep) : ITargetMessage;

public sealed record HealthCheckTarget(string Pool, string Session, string RestorePointUuid, string SrUuid, TimeSpan Timeout) : ITargetMessage;

public sealed record CloseTarget(string Pool, string Session) : ITargetMessage;

/// <summary>The answer of a step: a count, the snapshot disks with a base (and why the replica found is not continued in
/// place, if it is not), a disk id, or the replica and restore point.</summary>
public sealed record TargetReply(string Pool, string Session, int Count = 0, IReadOnlyList<string>? Values = null, string? Note = null)
    : ITargetMessage;

public sealed record TargetFailed(string Pool, string Session, string Error) : ITargetMessage;
