namespace XcrCluster.Domain.Control;

/// <summary>Whether a job still replicates a VM to an SR — what makes a replica an orphan or not. A smart job covers
/// the VMs its recorded runs picked, since its VM list is only known at run time. Pure.</summary>
public static class JobCoverage
{
    public static IReadOnlyList<JobDefinition> Covering(IEnumerable<JobDefinition> jobs, IEnumerable<RunLaunch> runs, string vm, string? sr = null)
        => [.. jobs.Where(j => (sr is null || j.Targets.Any(t => t.SrUuid == sr)) && Covers(j, runs, vm))];

    private static bool Covers(JobDefinition job, IEnumerable<RunLaunch> runs, string vm)
        => job.Vms.Contains(vm) || job.Smart is not null && runs.Any(r => r.JobId == job.Id && r.Vms.Contains(vm));
}
