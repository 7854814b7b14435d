using System.Collections.Immutable;

namespace XcrCluster.Domain.Vm;

/// <summary>The chains' part of the entity: reconciliation with the pools at a run's start, the run's milestones at its end.</summary>
public sealed partial record ReplicatedVmState
{
    /// <summary>What the target SRs of the current run hold, read at its start: an event when the model differed (or an
    /// SR could not be read), none when the pools agree with it.</summary>
    public IReadOnlyList<IReplicatedVmEvent> Reconcile(string runId, IReadOnlyList<SrObservation> observed,
        IReadOnlyList<SrReadFailure> failures, DateTimeOffset now)
    {
        if (Current?.RunId != runId)
        {
            return [];
        }

        var differences = new List<ChainDifference>();
        var changed = false;
        var ownJobs = History.Select(h => h.JobId).Append(Current.Job.JobId).ToHashSet(StringComparer.Ordinal);
        foreach (var sr in observed)
        {
            var (chains, found) = ChainReconciliation.Reconcile(Chains, sr);
            differences.AddRange(found.Where(d => ChainsTracked || History.IsEmpty
                || d.Kind != ChainDifferenceKind.RestorePointAdded || !ownJobs.Contains(d.Chain.JobId.Value)));
            changed |= !SameChains(Chains.Where(c => c.Key.SrUuid.Value == sr.SrUuid).ToList(), chains);
        }

        return differences.Count == 0 && failures.Count == 0 && !changed && ChainsTracked ? []
            : [new ChainsReconciled(VmUuid, runId, observed, differences, failures, now)];
    }

    /// <summary>The run ended: its targets' milestones (committed, chain advanced, retention's prunes), the run recorded
    /// with the warnings found at its start first in its log, then the next queued run if any.</summary>
    public IReadOnlyList<IReplicatedVmEvent> Finish(RunResult result, DateTimeOffset now)
    {
        if (Current is null || Current.RunId != result.RunId)
        {
            return [];
        }

        var events = new List<IReplicatedVmEvent>();
        var chains = Chains;
        foreach (var removed in result.Pruned.GroupBy(p => p.SrUuid))
        {
            // deleteFirst's prunes, whatever the run's end: the next reconciliation must not take them for manual deletions.
            var key = new ChainKey(new JobId(Current.Job.JobId), new ScheduleId(Current.Job.ScheduleId), new SrId(removed.Key));
            var pruned = new RestorePointsPruned(VmUuid, result.RunId, key, [.. removed.Select(p => p.Uuid)]);
            events.Add(pruned);
            chains = (this with { Chains = chains }).Apply(pruned).Chains;
        }

        foreach (var target in result.Targets.Where(t => t.Succeeded && t.RestorePointUuid is not null))
        {
            var key = new ChainKey(new JobId(Current.Job.JobId), new ScheduleId(Current.Job.ScheduleId), new SrId(target.SrUuid));
            var chain = chains.FirstOrDefault(c => c.Key == key);
            var pool = Current.Targets.FirstOrDefault(t => t.SrUuid == target.SrUuid)?.Pool ?? chain?.Pool ?? "";
            events.Add(new TargetCommitted(VmUuid, result.RunId, key, pool, target.TargetVmUuid,
                new RestorePoint(target.RestorePointUuid!, DataTime(now), target.BytesSent)));
            events.Add(new ChainAdvanced(VmUuid, result.RunId, key, result.SourceSnapshotUuid,
                result.Full ? 0 : chain?.DeltaChainLength + 1));

            // The engine keeps the newest copyRetention restore points of the schedule on the SR, the new one included.
            var points = (chain?.RestorePoints ?? []).Where(p => p.Uuid != target.RestorePointUuid).ToList();
            var keep = Math.Max(1, Current.Settings.CopyRetention) - 1;
            if (points.Count > keep)
            {
                events.Add(new RestorePointsPruned(VmUuid, result.RunId, key, [.. points.Take(points.Count - keep).Select(p => p.Uuid)]));
            }
        }

        var logged = CurrentWarnings.IsEmpty ? result : result with { Log = [.. CurrentWarnings, .. result.Log] };
        events.Add(new RunFinished(VmUuid, Current.Job.JobId, logged, now));
        if (NextQueued() is { } next)
        {
            events.Add(new RunStarted(VmUuid, next, now));
        }

        return events;
    }

    private ReplicatedVmState Reconciled(ChainsReconciled r)
    {
        var chains = Chains;
        foreach (var sr in r.Observed)
        {
            var (reconciled, _) = ChainReconciliation.Reconcile(chains, sr);
            chains = chains.RemoveAll(c => c.Key.SrUuid.Value == sr.SrUuid).AddRange(reconciled);
        }

        var warnings = r.Failures.Select(f => Warning(r.At, f.SrUuid,
                $"SR {f.SrUuid} of pool {f.Pool} could not be read ({f.Reason}): its replicas are taken as last known"))
            .Concat(r.Differences.Select(d => Warning(r.At, d.Chain.SrUuid.Value, d.Message)));
        return this with
        {
            Chains = chains,
            ChainsTracked = true,
            CurrentWarnings = Current?.RunId == r.RunId ? CurrentWarnings.AddRange(warnings) : CurrentWarnings,
        };
    }

    private ReplicatedVmState Committed(TargetCommitted c)
    {
        var chain = Chains.FirstOrDefault(x => x.Key == c.Chain) ?? new ReplicaChain(c.Chain, c.Pool, null, [], null, null);
        var updated = chain with
        {
            Pool = c.Pool.Length > 0 ? c.Pool : chain.Pool,
            ReplicaVmUuid = c.ReplicaVmUuid ?? chain.ReplicaVmUuid,
            RestorePoints = chain.RestorePoints.RemoveAll(p => p.Uuid == c.RestorePoint.Uuid).Add(c.RestorePoint),
        };
        return this with { Chains = Chains.Remove(chain).Add(updated), ChainsTracked = true };
    }

    private static LogLine Warning(DateTimeOffset at, string sr, string message)
        => new(ReconcileLogName, "warning", at, at, null, message, sr);

    private static bool SameChains(IReadOnlyList<ReplicaChain> a, IReadOnlyList<ReplicaChain> b)
        => a.Count == b.Count && a.All(x => b.Any(y => y.Key == x.Key && y.Pool == x.Pool && y.ReplicaVmUuid == x.ReplicaVmUuid
            && y.BaseSnapshotUuid == x.BaseSnapshotUuid && y.DeltaChainLength == x.DeltaChainLength
            && y.RestorePoints.Select(p => p.Uuid).SequenceEqual(x.RestorePoints.Select(p => p.Uuid))));
}
