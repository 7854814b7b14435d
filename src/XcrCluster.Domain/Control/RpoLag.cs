using System.Collections.Immutable;
using XcrCluster.Domain.Notify;

namespace XcrCluster.Domain.Control;

/// <summary>One VM of one job as `/api/rpo`, `xcr rpo`, the metrics and the notices show it: lag from the newest restore
/// point's snapshot time (null: none yet) against the job's target (<see cref="RpoTarget.From"/>: rpo or schedule; null:
/// none, never late).</summary>
public sealed record RpoLag(string JobId, string JobName, string Vm, string? VmName, DateTimeOffset? NewestPoint,
    DateTimeOffset? LastSuccess, TimeSpan? Lag, RpoTarget? Target, TimeSpan? Period, bool Violation)
{
    /// <summary>The row of a VM now, from what its entity knows (null: the VM was never run, so it has no entity yet).</summary>
    public static RpoLag Of(JobDefinition job, string vm, string? vmName, Vm.ReplicatedVmState? state, DateTimeOffset now)
    {
        var target = RpoRules.Target(job, now);
        var point = state?.NewestPoint(job.Id);
        return new RpoLag(job.Id, job.Name, vm, vmName, point, state?.LastSuccess, now - point, target,
            ScheduleRules.Period(job, now), target is { } t && RpoRules.Violated(t.Target, point, job.Defined, now));
    }

    /// <summary>Late first (the longest lag first, none yet first of all), then by job and VM.</summary>
    public static IReadOnlyList<RpoLag> Sorted(IEnumerable<RpoLag> rows)
        => [.. rows.OrderByDescending(r => r.Violation).ThenByDescending(r => r.Lag ?? TimeSpan.MaxValue)
            .ThenBy(r => r.JobId, StringComparer.Ordinal).ThenBy(r => r.Vm, StringComparer.Ordinal)];
}

/// <summary>Which VMs were late at the last evaluation, so a notice is published on each change only: violated when a VM
/// becomes late, recovered when it is back under its target. A VM that leaves its job (or a job deleted) is forgotten without
/// a notice. Held in memory by the evaluator: after the singleton moves, a violation still true is published again. Pure.</summary>
public sealed record RpoEdges
{
    public ImmutableHashSet<(string Job, string Vm)> Late { get; init; } = [];

    public (RpoEdges Next, IReadOnlyList<INotice> Notices) Step(IReadOnlyList<RpoLag> rows, DateTimeOffset now)
    {
        var notices = new List<INotice>();
        foreach (var r in rows)
        {
            var was = Late.Contains((r.JobId, r.Vm));
            var seconds = r.Target?.Target.TotalSeconds ?? 0;
            if (r.Violation && !was)
            {
                notices.Add(new RpoViolated(r.JobId, r.JobName, r.Vm, r.VmName ?? "", r.Lag?.TotalSeconds, seconds, now));
            }
            else if (!r.Violation && was && r.Lag is { } lag)
            {
                notices.Add(new RpoRecovered(r.JobId, r.JobName, r.Vm, r.VmName ?? "", lag.TotalSeconds, seconds, now));
            }
        }

        return (this with { Late = [.. rows.Where(r => r.Violation).Select(r => (r.JobId, r.Vm))] }, notices);
    }
}
