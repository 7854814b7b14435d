using System.Text.Json.Serialization;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Recovery;

/// <summary>What a recovery command did. The JSON names are what the API and `xcr run show` print.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RecoveryKind>))]
public enum RecoveryKind
{
    [JsonStringEnumMemberName("failover-copy")]
    FailoverCopy,

    [JsonStringEnumMemberName("failover-force")]
    FailoverForce,

    [JsonStringEnumMemberName("failover-test")]
    FailoverTest,

    [JsonStringEnumMemberName("failover-planned")]
    FailoverPlanned,

    [JsonStringEnumMemberName("failback")]
    Failback,

    [JsonStringEnumMemberName("seed")]
    Seed,

    [JsonStringEnumMemberName("seed-export")]
    SeedExport,

    [JsonStringEnumMemberName("seed-import")]
    SeedImport,
}

/// <summary>One VM of a recovery command: how it ended, the VM it started or made (if any), and its steps as task lines
/// (the same lines a run logs, so `xcr run show` prints a recovery as it prints a run).</summary>
public sealed record RecoveryVmOutcome(string Vm, RunStatus Status, string? Error, IReadOnlyList<LogLine> Log)
{
    /// <summary>The VM this command started or created on its pool (a failover's clone or replica, a seed's target VM).</summary>
    public string? ResultVmUuid { get; init; }

    /// <summary>What an operator needs next (e.g. the new VM's name, the replica a source was failed over to).</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>();

    public static RecoveryVmOutcome Failed(string vm, string error, IReadOnlyList<LogLine>? log = null)
        => new(vm, RunStatus.Failed, error, log ?? []);
}

/// <summary>A recovery command as the control plane keeps it, found by id like a run (`xcr run show`).</summary>
public sealed record RecoveryRecord(string Id, RecoveryKind Kind, string? JobId, DateTimeOffset Started, DateTimeOffset Finished,
    IReadOnlyList<RecoveryVmOutcome> Vms)
{
    /// <summary>Success when every VM succeeded, failure when none did, else partial (reported per VM).</summary>
    public string Status => Vms.All(v => v.Status == RunStatus.Success) ? "success"
        : Vms.Any(v => v.Status == RunStatus.Success) ? "partial" : "failure";

    /// <summary>The task tree of one VM: the command > the VM > its steps.</summary>
    public TaskNode Tasks(RecoveryVmOutcome vm)
    {
        var steps = vm.Log.Select(l => new TaskNode(l.Name, l.Status, l.Start, l.End, l.Size, l.Message, [])).ToList();
        var node = new TaskNode($"VM {vm.Vm}", vm.Status.Name(), steps.Count > 0 ? steps.Min(s => s.Start) : Started,
            steps.Count > 0 ? steps.Max(s => s.End) : Finished, null, vm.Error, steps);
        return new TaskNode($"{Kind.Name()} {Id}", vm.Status.Name(), Started, Finished, null, null, [node]);
    }
}

public static class RecoveryKindNames
{
    public static string Name(this RecoveryKind kind) => kind switch
    {
        RecoveryKind.FailoverCopy => "failover-copy",
        RecoveryKind.FailoverForce => "failover-force",
        RecoveryKind.FailoverTest => "failover-test",
        RecoveryKind.FailoverPlanned => "failover-planned",
        RecoveryKind.Failback => "failback",
        RecoveryKind.Seed => "seed",
        RecoveryKind.SeedExport => "seed-export",
        _ => "seed-import",
    };
}
