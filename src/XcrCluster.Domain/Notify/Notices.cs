namespace XcrCluster.Domain.Notify;

/// <summary>Something an operator is told about without asking (webhooks, email): published on the cluster's
/// "notices" topic by whoever sees it (the scheduler for RPO, the notifier for runs and members), delivered by the
/// notifier singleton. Ephemeral on the wire; the serializer is bound to this interface.</summary>
public interface INotice
{
    /// <summary>The event's name in payloads and filters: run-ended, rpo-violated, rpo-recovered, node-down, node-up.</summary>
    string Kind { get; }

    DateTimeOffset At { get; }
}

/// <summary>One VM's part of an ended run.</summary>
public sealed record VmOutcome(string Vm, string VmName, string Status, string? Error, long Bytes);

/// <summary>Every VM of a job's run has ended; <paramref name="Outcome"/>: success, partial (some failed), failure.</summary>
public sealed record RunEndedNotice(string JobId, string JobName, string RunId, string Trigger, string Outcome,
    DateTimeOffset Started, IReadOnlyList<VmOutcome> Vms, DateTimeOffset At) : INotice
{
    public string Kind => "run-ended";
}

/// <summary>A VM's lag (now minus its newest restore point's snapshot time; null: none yet) went over its RPO target.</summary>
public sealed record RpoViolated(string JobId, string JobName, string Vm, string VmName, double? LagSeconds, double TargetSeconds,
    DateTimeOffset At) : INotice
{
    public string Kind => "rpo-violated";
}

/// <summary>A VM that violated its RPO is back under the target.</summary>
public sealed record RpoRecovered(string JobId, string JobName, string Vm, string VmName, double LagSeconds, double TargetSeconds,
    DateTimeOffset At) : INotice
{
    public string Kind => "rpo-recovered";
}

/// <summary>A cluster member became unreachable or was removed (<paramref name="Reason"/>).</summary>
public sealed record NodeDown(string Address, IReadOnlyList<string> Roles, string Reason, DateTimeOffset At) : INotice
{
    public string Kind => "node-down";
}

/// <summary>A cluster member joined or is reachable again.</summary>
public sealed record NodeUp(string Address, IReadOnlyList<string> Roles, DateTimeOffset At) : INotice
{
    public string Kind => "node-up";
}
