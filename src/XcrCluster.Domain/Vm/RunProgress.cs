namespace XcrCluster.Domain.Vm;

/// <summary>What a run says while it goes, published on the cluster's "run-progress" topic so any node's HTTP
/// endpoint sees runs executing anywhere. Ephemeral: never persisted (the entity persists the result); a lost
/// message only means a late or missing sample. The serializer is bound to this interface.</summary>
public interface IRunProgressMessage
{
    string RunId { get; }

    string VmUuid { get; }
}

/// <summary>The phases a run reports, in order; <see cref="Export"/> reports carry a disk and a target SR.</summary>
public static class RunPhase
{
    public const string Snapshot = "snapshot";
    public const string Export = "export";
    public const string Commit = "commit";
    public const string Done = "done";
}

/// <summary>A sample of one VM's run: a phase change, or during <see cref="RunPhase.Export"/> the bytes of one disk
/// (source VDI uuid and name) received so far by one target SR out of the export's total (present blocks ×
/// (bitmap + block)). Disk and SR are null for VM-wide phases; SR is set for a target's commit.</summary>
public sealed record RunProgress(string RunId, string JobId, string VmUuid, string? Disk, string? DiskName, string? Sr, long Bytes,
    long Total, string Phase, DateTimeOffset At)
    : IRunProgressMessage
{
    /// <summary>Set once the source snapshot is taken (a second <see cref="RunPhase.Snapshot"/> sample): the run's first
    /// milestone, what an interrupted run left on the source pool.</summary>
    public string? Snapshot { get; init; }

    /// <summary>The source VM's name label once the run has read it (null before, and from nodes older than it): what
    /// people read in progress displays, the uuid staying the key.</summary>
    public string? VmName { get; init; }

    /// <summary>The name label of <see cref="Sr"/>, when a sample has one.</summary>
    public string? SrName { get; init; }
}

/// <summary>The VM's part of the run ended with this status (success, skipped, failure).</summary>
public sealed record RunEnded(string RunId, string VmUuid, string Status) : IRunProgressMessage;
