using System.Text.Json.Serialization;

namespace XcrCluster.Domain.Vm;

/// <summary>How a VM's run ended. The JSON names are those the API, `xcr` and the journal have always shown
/// ("success", "failure", "skipped", "interrupted"), whichever serializer options are in use.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunStatus>))]
public enum RunStatus
{
    [JsonStringEnumMemberName("success")]
    Success,

    [JsonStringEnumMemberName("failure")]
    Failed,

    /// <summary>A condition that clears by itself (e.g. an unhealthy chain): not retried.</summary>
    [JsonStringEnumMemberName("skipped")]
    Skipped,

    /// <summary>The node running it stopped; recorded when the entity recovers.</summary>
    [JsonStringEnumMemberName("interrupted")]
    Interrupted,
}

public static class RunStatusNames
{
    /// <summary>The status as the API shows it (the JSON name).</summary>
    public static string Name(this RunStatus status) => status switch
    {
        RunStatus.Success => "success",
        RunStatus.Skipped => "skipped",
        RunStatus.Interrupted => "interrupted",
        _ => "failure",
    };
}

/// <summary>How a VM's run ended: one model from the engine to the entity's books, the API and `xcr`. Failed carries every
/// target's own outcome; <see cref="Bases"/> says per disk what the run diffed against, or why it sent a full.</summary>
public sealed record RunResult(string RunId, RunStatus Status, string? Error, bool Full, string? SourceSnapshotUuid,
    IReadOnlyList<TargetResult> Targets, IReadOnlyList<LogLine> Log)
{
    public IReadOnlyList<DiskBase> Bases { get; init; } = [];

    /// <summary>Restore points the run removed before its transfer (deleteFirst): gone whatever the run's end.</summary>
    public IReadOnlyList<RemovedRestorePoint> Pruned { get; init; } = [];
}

/// <summary>A restore point a run removed from a target SR.</summary>
public sealed record RemovedRestorePoint(string SrUuid, string Uuid);

public sealed record TargetResult(string SrUuid, bool Succeeded, string? Error, string? TargetVmUuid, string? RestorePointUuid,
    long BytesSent);

/// <summary>One line of a run's task log (run > VM > snapshot / export per SR > transfer > target snapshot);
/// <paramref name="Status"/> is a task status ("success", "failure", "warning", ...).</summary>
public sealed record LogLine(string Name, string Status, DateTimeOffset Start, DateTimeOffset End, long? Size = null,
    string? Message = null, string? Target = null);
