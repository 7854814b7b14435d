using System.Collections.Immutable;

namespace XcrCluster.Domain.Vm;

/// <summary>One finished run, as kept in the VM's history.</summary>
public sealed record RunRecord(string RunId, string JobId, string ScheduleId, DateTimeOffset Started, DateTimeOffset Finished, RunResult Result);

/// <summary>
/// The replication history of one source VM: one run per job at a time (a second request from the same job is
/// refused with Xen Orchestra's message), runs of other jobs queued in arrival order, the last runs per job,
/// the restore points each target holds and the RPO. Pure: commands in, events out; events applied.
/// </summary>
public sealed record ReplicatedVmState
{
    public const int HistoryPerJob = 50;

    public string VmUuid { get; init; } = "";

    public ReplicateVm? Current { get; init; }

    public DateTimeOffset? CurrentStarted { get; init; }

    public ImmutableList<ReplicateVm> Queue { get; init; } = [];

    public ImmutableList<RunRecord> History { get; init; } = [];

    /// <summary>Restore point uuids per target SR (newest last) as the last successful runs reported them.</summary>
    public ImmutableDictionary<string, ImmutableList<string>> RestorePoints { get; init; } = ImmutableDictionary<string, ImmutableList<string>>.Empty;

    public DateTimeOffset? LastSuccess { get; init; }

    /// <summary>This VM's part in a run: its final status, running, queued, or null when the VM is not in that run.</summary>
    public string? StatusOf(string runId)
        => History.LastOrDefault(h => h.RunId == runId)?.Result.Status ?? (Current?.RunId == runId ? "running" : Queue.Any(q => q.RunId == runId) ? "queued" : null);

    /// <summary>Time since the last successful run's start (what a failover would lose), null before any.</summary>
    public TimeSpan? RpoLag(DateTimeOffset now) => LastSuccess is { } at ? now - at : null;

    /// <summary>Decides what a request to replicate causes: start now, queue behind another job, or refusal.</summary>
    public (IReadOnlyList<IReplicatedVmEvent> Events, IReplicatedVmMessage Reply) Process(ReplicateVm request, DateTimeOffset now)
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

        return Current is null
            ? ([new RunStarted(request.VmUuid, request, now)], new RunAccepted(request.VmUuid, request.RunId, Queued: false))
            : ([new RunQueued(request.VmUuid, request, now)], new RunAccepted(request.VmUuid, request.RunId, Queued: true));
    }

    /// <summary>The run ended: record it, then start the next queued run if any.</summary>
    public IReadOnlyList<IReplicatedVmEvent> Finish(RunResult result, DateTimeOffset now)
    {
        if (Current is null || Current.RunId != result.RunId)
        {
            return [];
        }

        var events = new List<IReplicatedVmEvent> { new RunFinished(VmUuid, Current.Job.JobId, result, now) };
        if (!Queue.IsEmpty)
        {
            events.Add(new RunStarted(VmUuid, Queue[0], now));
        }

        return events;
    }

    /// <summary>After a recovery, a run that was going is lost: it is recorded as interrupted (its leftovers are
    /// found and removed by the next run on the pools).</summary>
    public IReadOnlyList<IReplicatedVmEvent> Recovered(DateTimeOffset now)
        => Current is null ? [] : [new RunInterrupted(VmUuid, Current.RunId, Current.Job.JobId, now), .. Queue.Take(1).Select(q => (IReplicatedVmEvent)new RunStarted(VmUuid, q, now))];

    public ReplicatedVmState Apply(IReplicatedVmEvent e) => e switch
    {
        RunStarted s => this with
        {
            VmUuid = s.VmUuid,
            Current = s.Request,
            CurrentStarted = s.At,
            Queue = Queue.RemoveAll(q => q.RunId == s.Request.RunId),
        },
        RunQueued q => this with { VmUuid = q.VmUuid, Queue = Queue.Add(q.Request) },
        RunFinished f => Record(f.Result, f.At),
        ReplicasForgotten f => this with { RestorePoints = f.SrUuid is null ? RestorePoints.Clear() : RestorePoints.Remove(f.SrUuid) },
        RunInterrupted i => Record(new RunResult(i.RunId, "interrupted", "the node stopped during the run", false, null, [], []), i.At),
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

        var points = RestorePoints;
        foreach (var target in result.Targets.Where(t => t.Succeeded && t.RestorePointUuid is not null))
        {
            var list = points.GetValueOrDefault(target.SrUuid, []).Add(target.RestorePointUuid!);
            var keep = Math.Max(1, current.Settings.CopyRetention);
            points = points.SetItem(target.SrUuid, list.Count > keep ? list.RemoveRange(0, list.Count - keep) : list);
        }

        return this with
        {
            Current = null,
            CurrentStarted = null,
            History = history,
            RestorePoints = points,
            LastSuccess = result.Status == "success" ? CurrentStarted ?? at : LastSuccess,
        };
    }
}
