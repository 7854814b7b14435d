using System.Collections.Immutable;

namespace XcrCluster.Domain.Vm;

/// <summary>One finished run, as kept in the VM's history.</summary>
public sealed record RunRecord(string RunId, string JobId, string ScheduleId, DateTimeOffset Started, DateTimeOffset Finished,
    RunResult Result);

/// <summary>
/// One source VM: one run per job at a time (a second request from the same job is refused with Xen Orchestra's
/// message), runs of other jobs queued in arrival order, the last runs per job, the RPO, and the chains it keeps on
/// its targets (<see cref="ReplicaChain"/> per job, schedule and SR), reconciled with the pools at each run's start
/// (<see cref="Reconcile"/>) and advanced from each run's result (<see cref="Finish"/>). Pure: commands in, events out;
/// events applied.
/// </summary>
public sealed partial record ReplicatedVmState
{
    public const int HistoryPerJob = 50;

    /// <summary>The name of the run log's lines about differences between the model and the pools.</summary>
    public const string ReconcileLogName = "reconcile with the pool";

    public string VmUuid { get; init; } = "";

    public ReplicateVm? Current { get; init; }

    public DateTimeOffset? CurrentStarted { get; init; }

    public ImmutableList<ReplicateVm> Queue { get; init; } = [];

    public ImmutableList<RunRecord> History { get; init; } = [];

    /// <summary>Every chain of this VM on its targets, as last reconciled with the pools and advanced by runs.</summary>
    public ImmutableList<ReplicaChain> Chains { get; init; } = [];

    /// <summary>False for an entity whose journal predates the chains (they were not recorded then): its first reconciliation
    /// adopts the restore points of its own jobs without calling them foreign.</summary>
    public bool ChainsTracked { get; init; }

    /// <summary>Warnings found for the current run before its result came (reconciliation), put first in its log.</summary>
    public ImmutableList<LogLine> CurrentWarnings { get; init; } = [];

    public DateTimeOffset? LastSuccess { get; init; }

    /// <summary>This VM's part in a run: its final status, running, queued, or null when the VM is not in that run.</summary>
    public string? StatusOf(string runId)
        => History.LastOrDefault(h => h.RunId == runId)?.Result.Status.Name()
            ?? (Current?.RunId == runId ? "running" : Queue.Any(q => q.RunId == runId) ? "queued" : null);

    /// <summary>Time since the last successful run's start (what a failover would lose), null before any.</summary>
    public TimeSpan? RpoLag(DateTimeOffset now) => LastSuccess is { } at ? now - at : null;

    /// <summary>The restore points per target SR, oldest first within each chain.</summary>
    public IEnumerable<(string SrUuid, IReadOnlyList<ReplicaChain> Chains)> BySr()
        => Chains.GroupBy(c => c.Key.SrUuid).Select(g => (g.Key.Value, (IReadOnlyList<ReplicaChain>)[.. g]));

    /// <summary>Decides what a request to replicate causes: start now, queue behind another job, or refusal.</summary>
    public (IReadOnlyList<IReplicatedVmEvent> Events, IReplicatedVmReply Reply) Process(ReplicateVm request, DateTimeOffset now)
    {
        if (Current?.Job.JobId == request.Job.JobId || Queue.Any(q => q.Job.JobId == request.Job.JobId))
        {
            return ([], new RunRejected(request.VmUuid, request.RunId, $"the job ({request.Job.JobId}) is already running"));
        }

        if (request.Targets.Count == 0)
        {
            return ([], new RunRejected(request.VmUuid, request.RunId, "the job has no target SR"));
        }

        if (request.Settings.Validate() is { } invalid)
        {
            return ([], new RunRejected(request.VmUuid, request.RunId, invalid));
        }

        return Current is null && !request.Held
            ? ([new RunStarted(request.VmUuid, request, now)], new RunAccepted(request.VmUuid, request.RunId, Queued: false))
            : ([new RunQueued(request.VmUuid, request, now)], new RunAccepted(request.VmUuid, request.RunId, Queued: true));
    }

    /// <summary>After a recovery, a run that was going is lost: it is recorded as interrupted (its leftovers are
    /// found and removed by the next run on the pools).</summary>
    public IReadOnlyList<IReplicatedVmEvent> Recovered(DateTimeOffset now)
        => Current is null ? []
            : [new RunInterrupted(VmUuid, Current.RunId, Current.Job.JobId, now),
                .. Queue.Where(q => !q.Held).Take(1).Select(q => (IReplicatedVmEvent)new RunStarted(VmUuid, q, now))];

    public ReplicatedVmState Apply(IReplicatedVmEvent e) => e switch
    {
        RunStarted s => this with
        {
            VmUuid = s.VmUuid,
            Current = s.Request,
            CurrentStarted = s.At,
            CurrentWarnings = [],
            CurrentSnapshot = null,
            CurrentSnapshotAt = null,
            CurrentTransfers = [],
            Queue = Queue.RemoveAll(q => q.RunId == s.Request.RunId),
        },
        RunQueued q => this with { VmUuid = q.VmUuid, Queue = Queue.Add(q.Request) },
        RunReleased r => Released(r),
        HeldRunDropped d => Dropped(d),
        RunFinished f => Record(f.Result, f.At),
        ReplicasForgotten f => this with { Chains = f.SrUuid is null ? [] : Chains.RemoveAll(c => c.Key.SrUuid.Value == f.SrUuid) },
        RunInterrupted i => Record(
            new RunResult(i.RunId, RunStatus.Interrupted, InterruptedReason(), false, CurrentSnapshot, [], CurrentWarnings), i.At),
        ChainsReconciled r => Reconciled(r),
        TargetCommitted c => Committed(c),
        ChainAdvanced a => WithChain(a.Chain,
            chain => chain with { BaseSnapshotUuid = a.BaseSnapshotUuid, DeltaChainLength = a.DeltaChainLength }),
        RestorePointsPruned p => WithChain(p.Chain,
            chain => chain with { RestorePoints = chain.RestorePoints.RemoveAll(r => p.RestorePointUuids.Contains(r.Uuid)) }),
        SnapshotTaken or DiskTransferred => Milestone(e),
        _ => this,
    };

    private ReplicatedVmState Record(RunResult result, DateTimeOffset at)
    {
        var current = Current!;
        var record = new RunRecord(result.RunId, current.Job.JobId, current.Job.ScheduleId, CurrentStarted ?? at, at, result);
        var history = History.Add(record);
        var ofJob = history.Where(r => r.JobId == record.JobId).ToList();
        if (ofJob.Count > HistoryPerJob)
        {
            history = history.Remove(ofJob[0]);
        }

        return this with
        {
            Current = null,
            CurrentStarted = null,
            CurrentWarnings = [],
            CurrentSnapshot = null,
            CurrentSnapshotAt = null,
            CurrentTransfers = [],
            History = history,
            LastSuccess = result.Status == RunStatus.Success ? CurrentStarted ?? at : LastSuccess,
        };
    }

    private ReplicatedVmState WithChain(ChainKey key, Func<ReplicaChain, ReplicaChain> change)
    {
        var index = Chains.FindIndex(c => c.Key == key);
        return index < 0 ? this : this with { Chains = Chains.SetItem(index, change(Chains[index])) };
    }
}
