namespace XcrCluster.Domain.Vm;

/// <summary>The job's concurrency as the entity sees it: a request of a run with more VMs than its concurrency comes
/// <see cref="ReplicateVm.Held"/> and waits in the queue (shown as queued) until its run's coordinator releases it; then it
/// runs as any request, now or behind another job's run. A held request whose coordinator went away is dropped, recorded as
/// a failed run that made nothing, so the VM is neither left waiting for ever nor refused to the job's next runs.</summary>
public sealed partial record ReplicatedVmState
{
    /// <summary>The queued request that starts next: the oldest one not held.</summary>
    public ReplicateVm? NextQueued() => Queue.FirstOrDefault(q => !q.Held);

    /// <summary>The held requests, waiting for their turn.</summary>
    public IEnumerable<ReplicateVm> HeldRuns() => Queue.Where(q => q.Held);

    /// <summary>The run's turn came: a held request is released (and starts if nothing runs). Nothing for a run that is not
    /// held here (released already, ended, dropped, unknown).</summary>
    public IReadOnlyList<IReplicatedVmEvent> Release(string runId, DateTimeOffset now)
    {
        if (Queue.Find(q => q.RunId == runId && q.Held) is not { } held)
        {
            return [];
        }

        return Current is null
            ? [new RunReleased(VmUuid, runId, now), new RunStarted(VmUuid, held with { Held = false }, now)]
            : [new RunReleased(VmUuid, runId, now)];
    }

    /// <summary>A held request that will not get its turn is dropped with <paramref name="reason"/>.</summary>
    public IReadOnlyList<IReplicatedVmEvent> Drop(string runId, string reason, DateTimeOffset now)
        => Queue.Any(q => q.RunId == runId && q.Held) ? [new HeldRunDropped(VmUuid, runId, reason, now)] : [];

    private ReplicatedVmState Released(RunReleased r)
    {
        var index = Queue.FindIndex(q => q.RunId == r.RunId);
        return index < 0 ? this : this with { Queue = Queue.SetItem(index, Queue[index] with { Held = false }) };
    }

    private ReplicatedVmState Dropped(HeldRunDropped d)
    {
        if (Queue.Find(q => q.RunId == d.RunId) is not { } held)
        {
            return this;
        }

        var result = new RunResult(d.RunId, RunStatus.Failed, d.Reason, false, null, [],
            [new LogLine("VM", "failure", d.At, d.At, null, d.Reason, null)]);
        var history = History.Add(new RunRecord(d.RunId, held.Job.JobId, held.Job.ScheduleId, d.At, d.At, result));
        var ofJob = history.Where(r => r.JobId == held.Job.JobId).ToList();
        return this with
        {
            Queue = Queue.Remove(held),
            History = ofJob.Count > HistoryPerJob ? history.Remove(ofJob[0]) : history,
        };
    }
}
