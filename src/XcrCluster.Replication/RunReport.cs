using XcrCluster.Domain;

namespace XcrCluster.Replication;

/// <summary>How a VM's run ended: success, skipped (a condition that clears by itself, e.g. an unhealthy
/// chain), or failed (with every target's own outcome).</summary>
public enum RunStatus
{
    Success,
    Skipped,
    Failed,
}

/// <summary>One line of a run's task log (run > VM > snapshot / export per SR > transfer > target snapshot).</summary>
public sealed record TaskEntry(string Name, string Status, DateTimeOffset Start, DateTimeOffset End, long? Size = null, string? Message = null, string? Target = null);

/// <summary>What one target SR received in a run.</summary>
public sealed record TargetOutcome(string SrUuid, bool Succeeded, string? Error, string? TargetVmUuid, string? RestorePointUuid, long BytesSent, bool Full);

public sealed record RunReport(
    RunStatus Status,
    string? Error,
    string? SourceSnapshotUuid,
    IReadOnlyList<DiskBase> Bases,
    IReadOnlyList<TargetOutcome> Targets,
    IReadOnlyList<TaskEntry> Log)
{
    public bool IsFull => Bases.Count == 0 || Bases.Any(b => b.BaseSnapshotVdiUuid is null);
}

/// <summary>A VM the run must not touch, with the reason; the run reports it as failed or skipped.</summary>
public sealed class RunRefusedException(string message, bool skipped = false) : Exception(message)
{
    public bool Skipped { get; } = skipped;
}
