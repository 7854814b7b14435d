using System.Collections.Immutable;

namespace XcrCluster.Domain.Vm;

/// <summary>The current run's milestones as its progress reports them: the entity persists them as they happen, so
/// after a crash it knows which step was in flight and says exactly what the next run removes.</summary>
public sealed partial record ReplicatedVmState
{
    /// <summary>The current run's source snapshot, once taken.</summary>
    public string? CurrentSnapshot { get; init; }

    /// <summary>When the current run's source snapshot was seen taken: the time its restore points hold data of.</summary>
    public DateTimeOffset? CurrentSnapshotAt { get; init; }

    /// <summary>The current run's disk transfers that ended (disk, target SR).</summary>
    public ImmutableList<DiskTransfer> CurrentTransfers { get; init; } = [];

    /// <summary>The milestones a progress sample of the current run marks (none for any other sample).</summary>
    public IReadOnlyList<IReplicatedVmEvent> Observe(RunProgress sample, DateTimeOffset now)
    {
        if (Current?.RunId != sample.RunId)
        {
            return [];
        }

        if (sample.Snapshot is { } snapshot && snapshot != CurrentSnapshot)
        {
            return [new SnapshotTaken(VmUuid, sample.RunId, snapshot, now)];
        }

        return sample is { Phase: RunPhase.Export, Disk: { } disk, Sr: { } sr, Total: > 0 } && sample.Bytes >= sample.Total
            && !CurrentTransfers.Contains(new DiskTransfer(disk, sr))
            ? [new DiskTransferred(VmUuid, sample.RunId, disk, sr, sample.Bytes, now)]
            : [];
    }

    /// <summary>Why an interrupted run failed, from its milestones: how far it got and what the next run removes.</summary>
    public string InterruptedReason()
    {
        if (CurrentSnapshot is null)
        {
            return "the node stopped during the run, before its snapshot: nothing was made on the source pool "
                + "(a target's leftovers, marked, are removed by the next run)";
        }

        var transfers = CurrentTransfers.IsEmpty ? "no disk transfer had ended"
            : $"{CurrentTransfers.Count} disk transfer(s) had ended "
                + $"({string.Join(", ", CurrentTransfers.Select(t => $"{t.Disk} to SR {t.Sr}"))})";
        return $"the node stopped during the run, after its snapshot {CurrentSnapshot}; {transfers}: the next run removes the snapshot "
            + "and what the transfers made on the targets (marked xcr:importing) unless a target committed it";
    }

    private ReplicatedVmState Milestone(IReplicatedVmEvent e) => e switch
    {
        SnapshotTaken s when Current?.RunId == s.RunId => this with { CurrentSnapshot = s.SnapshotUuid, CurrentSnapshotAt = s.At },
        DiskTransferred d when Current?.RunId == d.RunId
            => this with { CurrentTransfers = CurrentTransfers.Add(new DiskTransfer(d.Disk, d.SrUuid)) },
        _ => this,
    };
}

/// <summary>One disk's blocks all reached one target SR.</summary>
public sealed record DiskTransfer(string Disk, string Sr);
