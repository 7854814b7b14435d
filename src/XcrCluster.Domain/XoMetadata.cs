using System.Globalization;

namespace XcrCluster.Domain;

/// <summary>Xen Orchestra's other_config contract (docs/xen-orchestra.md §2): the keys both tools read and write,
/// and the strings and formats that go with them.</summary>
public static class XoMetadata
{
    public const string Job = "xo:backup:job";
    public const string Schedule = "xo:backup:schedule";
    public const string Vm = "xo:backup:vm";
    public const string Datetime = "xo:backup:datetime";
    public const string Exported = "xo:backup:exported";
    public const string DeltaChainLength = "xo:backup:deltaChainLength";
    public const string Sr = "xo:backup:sr";
    public const string CopyOf = "xo:copy_of";
    public const string ContentKey = "xo:backup:contentKey";
    public const string QcowFix = "xo:backup:includeNonNbdQcow2Fix";

    /// <summary>Removed from the live target after each run (xo:backup:sr stays: "we can replicate a replication").</summary>
    public static readonly IReadOnlyList<string> ResetOnLiveTarget = [ContentKey, CopyOf, Datetime, DeltaChainLength, Exported, QcowFix, Job, Schedule, Vm];

    /// <summary>Every replication key, xo:backup:sr included: what leaves a VM made from a replica or restore point that is
    /// not a replica (a failover's clone, a failback's new VM), so no run takes it for one.</summary>
    public static readonly IReadOnlyList<string> ReplicationKeys = [.. ResetOnLiveTarget, Sr];

    public const string StartBlocked = "Start operation for this vm is blocked, clone it if you want to use it.";
    public const string Importing = "Importing…";
    public const string ReplicaTag = "Continuous Replication";
    public const string HaDisabledTag = "HA disabled";
    public const string TempSnapshotName = "xo-backup-temp-snapshot-name";
    public const string MigrationBlocked = "VM migration is blocked during backup";
    public const string NoBackupMarker = "[NOBAK]";

    /// <summary>Xen Orchestra's tag for a memory (checkpoint) snapshot: out of scope here, refused.</summary>
    public const string MemoryBackupTag = "xo-memory-backup";

    /// <summary>The largest disk a VHD stream carries (XAPI's VDI_TOO_LARGE limit, 2040 GiB); larger needs qcow2.</summary>
    public const long MaxVhdDiskSize = 2040L * 1024 * 1024 * 1024;

    /// <summary>An interrupted target sorts oldest and is reaped by retention.</summary>
    public const string EpochDatetime = "19700101T000000Z";

    /// <summary>formatDateTime: UTC %Y%m%dT%H:%M:%SZ, ordered by string comparison.</summary>
    public static string FormatDateTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string SnapshotName(string jobName, string vmName) => $"[XO Backup {jobName}] {vmName}";

    public static string TargetSnapshotName(string vmName, string jobName, string scheduleName, DateTimeOffset time)
        => $"{vmName} - {jobName} / {scheduleName} {FormatDateTime(time).Replace(":", "", StringComparison.Ordinal)}";
}
