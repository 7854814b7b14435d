using XcrCluster.Domain.Control;

namespace XcrCluster.Domain.Vm;

/// <summary>What the RPO planner and the lag report read of a VM: its newest restore point per job, whether it has a run
/// going or waiting (of any job: the entity runs one at a time), and the durations of its last runs.</summary>
public sealed partial record ReplicatedVmState
{
    /// <summary>The snapshot time of the job's newest restore point on any target SR, null before any.</summary>
    public DateTimeOffset? NewestPoint(string jobId)
        => Chains.Where(c => c.Key.JobId.Value == jobId).SelectMany(c => c.RestorePoints).Max(p => p.SnapshotTime);

    /// <summary>A run of the VM is current or queued, whatever its job.</summary>
    public bool Busy => Current is not null || !Queue.IsEmpty;

    /// <summary>The facts the planner needs about this VM for a job.</summary>
    public RpoVm RpoFacts(string jobId)
    {
        var runs = History.Where(h => h.JobId == jobId).ToList();
        var recent = runs.Where(h => h.Result.Status == RunStatus.Success).TakeLast(RpoPlanner.DurationsConsidered)
            .Select(h => h.Finished - h.Started).ToList();
        var failed = runs.LastOrDefault() is { Result.Status: not RunStatus.Success } last ? last.Finished : (DateTimeOffset?)null;
        return new RpoVm(VmUuid, NewestPoint(jobId), Busy, recent) { LastFailure = failed };
    }

    /// <summary>When the data of the current run's restore points was taken: its source snapshot when the entity saw it,
    /// else the run's start (an upper bound of the lag, never an understatement), else <paramref name="now"/>.</summary>
    private DateTimeOffset DataTime(DateTimeOffset now) => CurrentSnapshotAt ?? CurrentStarted ?? now;
}
