using XcrCluster.DataChannel;
using XcrCluster.Domain.Pools;
using XcrCluster.Replication.Recovery;
using XcrCluster.Vhd;

namespace XcrCluster.Actors;

/// <summary>A cross-node failback's work on the replica's pool, asked by the source pool's agent on another node
/// (<see cref="RemoteFailbackReplica"/>); each request gets its reply or <see cref="FailbackReplicaFailed"/>.</summary>
public interface IFailbackReplicaRequest : IPoolAgentMessage
{
}

public interface IFailbackReplicaReply : IPoolAgentMessage
{
}

/// <summary>Reads the started replica of <paramref name="Vm"/>, its disks and restore points.</summary>
public sealed record ReadFailbackReplica(string Pool, string Vm) : IFailbackReplicaRequest;

public sealed record FailbackReplicaRead(string Pool, FailbackReplicaSide Side) : IFailbackReplicaReply;

/// <summary>One disk to read back: the disk of the replica's snapshot and the restore point's disk it is compared with.</summary>
public sealed record FailbackDeltaDisk(string Userdevice, string PointVdi);

/// <summary>Snapshots the replica and reads the shape of each disk's delta (its BAT); the snapshot is this command's own and
/// goes with <see cref="DropFailbackSnapshot"/> (or at once, when this fails).</summary>
public sealed record SnapshotFailbackReplica(string Pool, string Replica, string Label, IReadOnlyList<FailbackDeltaDisk> Disks)
    : IFailbackReplicaRequest;

/// <summary>The delta of one disk of the replica's snapshot: which VDI it is read from and the shape the receiver expects.</summary>
public sealed record FailbackDeltaShape(string Userdevice, string SnapshotVdi, VhdShape Shape);

public sealed record FailbackReplicaSnapshotted(string Pool, string Snapshot, IReadOnlyList<FailbackDeltaShape> Shapes)
    : IFailbackReplicaReply;

/// <summary>Sends one disk's delta (VHD, against <paramref name="PointVdi"/>) to a data channel ticket of the asker's node.</summary>
public sealed record SendFailbackDelta(string Pool, string SnapshotVdi, string PointVdi, ChannelTicket Ticket) : IFailbackReplicaRequest;

public sealed record FailbackDeltaSent(string Pool, long Bytes) : IFailbackReplicaReply;

public sealed record DropFailbackSnapshot(string Pool, string Snapshot) : IFailbackReplicaRequest;

public sealed record FailbackSnapshotDropped(string Pool) : IFailbackReplicaReply;

/// <summary><paramref name="Refused"/>: refused before any change (no started replica, several).</summary>
public sealed record FailbackReplicaFailed(string Pool, string Error, bool Refused) : IFailbackReplicaReply;
