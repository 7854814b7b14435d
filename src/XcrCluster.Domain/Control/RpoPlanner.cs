namespace XcrCluster.Domain.Control;

/// <summary>What the planner knows of one VM of a job: its newest restore point's snapshot time (null: none yet), whether a
/// run of it (of any job) is current or queued, the durations of its last successful runs of the job, and when its last
/// run of the job failed if it did.</summary>
public sealed record RpoVm(string Vm, DateTimeOffset? NewestPoint, bool Busy, IReadOnlyList<TimeSpan> RecentDurations)
{
    public DateTimeOffset? LastFailure { get; init; }
}

/// <summary>
/// Which VMs of a job with an RPO target to start now so their lag (now minus the newest restore point's snapshot time)
/// stays under the target. A run's restore point holds the data of its start, so a VM must start before its lag plus the
/// run's expected duration reaches the target: expected = the longest of its last <see cref="DurationsConsidered"/>
/// successful runs times <see cref="Margin"/> plus <see cref="Slack"/> (the scheduler's tick and the start's own
/// latency; with 1.25 and 2 s the bench's peaks came within 4 s of a 30 s target on a loaded machine). A VM that changes
/// fast has long runs: it is due again as soon as its run ends, back to back. A VM without a restore point is due at once.
/// Never a VM with a run current or queued (the entity would queue a second run behind the first; the next evaluation sees
/// it free). After a failed run the VM waits <see cref="RetryAfter"/>,
/// so a VM that cannot be replicated is not hammered every second. Pure.
/// </summary>
public static class RpoPlanner
{
    public const int DurationsConsidered = 5;

    public const double Margin = 1.5;

    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);

    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);

    /// <summary>How long the VM's next run is expected to take (zero before any run: nothing to go by).</summary>
    public static TimeSpan Expected(IReadOnlyList<TimeSpan> recent)
        => recent.Count == 0 ? TimeSpan.Zero : recent.TakeLast(DurationsConsidered).Max() * Margin + Slack;

    /// <summary>The VMs to start now, in the order given.</summary>
    public static IReadOnlyList<string> Due(TimeSpan target, IEnumerable<RpoVm> vms, DateTimeOffset now)
        => [.. vms.Where(v => !v.Busy && (v.LastFailure is not { } failed || now - failed >= RetryAfter)
                && (v.NewestPoint is not { } point || now - point + Expected(v.RecentDurations) >= target))
            .Select(v => v.Vm)];
}
