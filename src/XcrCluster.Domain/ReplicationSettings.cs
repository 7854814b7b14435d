namespace XcrCluster.Domain;

/// <summary>A job's settings for one schedule, with Xen Orchestra's defaults (docs/xen-orchestra.md §13).</summary>
public sealed record ReplicationSettings
{
    /// <summary>Restore points kept per target SR (including the new one).</summary>
    public int CopyRetention { get; init; } = 1;

    /// <summary>0 = never forced; N = one full every N runs (1 = always full).</summary>
    public int FullInterval { get; init; }

    public int Concurrency { get; init; } = 2;

    /// <summary>Bytes per second for the whole run, 0 = unlimited.</summary>
    public long MaxExportRate { get; init; }

    /// <summary>Job snapshots kept on the source per schedule, in total; the job's newest (the next delta's base) is always kept.</summary>
    public int SnapshotRetention { get; init; }

    public TimeSpan? Timeout { get; init; }

    /// <summary>Further attempts after a failed run of a VM (XO: nRetriesVmBackupFailures); a skipped VM is not retried.</summary>
    public int Retries { get; init; }

    /// <summary>Old restore points beyond copyRetention - 1 are removed before the transfer instead of after it (less
    /// room needed on the target; the base of a delta is kept until the new point exists).</summary>
    public bool DeleteFirst { get; init; }

    /// <summary>An SR where each new restore point is copied, started and destroyed once the guest answers (XO keeps it
    /// per schedule: a schedule's value overrides this one, see JobSchedule).</summary>
    public string? HealthCheckSr { get; init; }

    /// <summary>Only VMs with one of these tags are health-checked; none = every VM (XO: healthCheckVmsWithTags).</summary>
    public IReadOnlyList<string>? HealthCheckVmsWithTags { get; init; }

    /// <summary>How long a health check waits for the guest; null = <see cref="DefaultHealthCheckTimeout"/>.</summary>
    public TimeSpan? HealthCheckTimeout { get; init; }

    /// <summary>Xen Orchestra's healthCheckTimeout default ('10m').</summary>
    public static readonly TimeSpan DefaultHealthCheckTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The longest health check there is: a guest that does not answer in a day will not.</summary>
    public static readonly TimeSpan MaxHealthCheckTimeout = TimeSpan.FromDays(1);

    /// <summary>Source network uuid to target network uuid, before the automatic rule (same uuid, VLAN and name, ...).</summary>
    public IReadOnlyDictionary<string, string>? NetworkMapping { get; init; }

    /// <summary>Uncoalesced base copies tolerated in a disk's chain before the VM is skipped (XO: 1).</summary>
    public int MaxUncoalescedVdis { get; init; } = 1;

    /// <summary>The first setting that is out of range, named, or null when all are valid.</summary>
    public string? Validate() => this switch
    {
        { CopyRetention: < 1 } => "copyRetention must be at least 1",
        { FullInterval: < 0 } => "fullInterval must be 0 (never) or more",
        { Concurrency: < 0 } => "concurrency must be 0 (unlimited) or more",
        { MaxExportRate: < 0 } => "maxExportRate must be 0 (unlimited) or more",
        { SnapshotRetention: < 0 } => "snapshotRetention must be 0 or more",
        { Timeout: { } t } when t <= TimeSpan.Zero => "timeout must be positive",
        { Timeout: { } t } when t > Units.MaxDuration => "timeout must be at most 7 days",
        { MaxUncoalescedVdis: < 0 } => "maxUncoalescedVdis must be 0 or more",
        { Retries: < 0 or > 10 } => "retries must be 0 to 10",
        { HealthCheckSr: { } sr } when !Guid.TryParse(sr, out _) => $"healthCheckSr \"{sr}\" is not an SR uuid",
        { HealthCheckTimeout: { } t } when t <= TimeSpan.Zero || t > MaxHealthCheckTimeout
            => "healthCheckTimeout must be positive and at most 1 day",
        { HealthCheckVmsWithTags: { } tags } when tags.Any(string.IsNullOrWhiteSpace) => "healthCheckVmsWithTags: a tag cannot be empty",
        { NetworkMapping: { } map } when map.FirstOrDefault(p => !Guid.TryParse(p.Key, out _) || !Guid.TryParse(p.Value, out _))
            is { Key: { } from } bad
            => $"networkMapping \"{from}={bad.Value}\": source and target network uuids expected",
        _ => null,
    };
}

/// <summary>Which job and schedule a run belongs to; names are used for snapshot names.</summary>
public sealed record JobRef(string JobId, string JobName, string ScheduleId, string ScheduleName);
