namespace XcrCluster.Domain.Pools;

/// <summary>A storage repository as the pool reports it; sizes in bytes.</summary>
public sealed record SrInfo(string Uuid, string Name, string Type, bool Shared, long PhysicalSize, long PhysicalUtilisation)
{
    /// <summary>Never negative: thin-provisioned SRs can report more in use than their size.</summary>
    public long Free => Math.Max(0, PhysicalSize - PhysicalUtilisation);
}

/// <summary>One disk of a VM: its VDI, and the SR that holds it.</summary>
public sealed record DiskInfo(string VdiUuid, string Name, long VirtualSize, string SrUuid);

/// <summary>
/// A VM of a pool (templates, snapshots and control domains are never listed). <paramref name="BackupJob"/> is its
/// other_config <c>xo:backup:job</c> and <paramref name="StartBlocked"/> whether <c>start</c> is in its
/// blocked_operations: with <see cref="IsReplica"/> they are what smart selection needs to leave out what
/// replication made.
/// </summary>
public sealed record VmInfo(string Uuid, string Name, string PowerState, IReadOnlyList<string> Tags, IReadOnlyList<DiskInfo> Disks, bool IsReplica,
    string? BackupJob = null, bool StartBlocked = false)
{
    /// <summary>
    /// Made by replication (ours or Xen Orchestra's): a VM of a backup job with start blocked (a live replica), a copy of a
    /// snapshot (<c>xo:copy_of</c>), or one tagged <c>Continuous Replication</c> (a live replica keeps the tag after the job
    /// keys are reset, docs/xen-orchestra.md §10).
    /// </summary>
    public static bool IsReplicaRecord(IReadOnlyDictionary<string, string> otherConfig, IEnumerable<string> blockedOperations, IEnumerable<string> tags)
        => (otherConfig.ContainsKey(XoMetadata.Job) && blockedOperations.Contains("start"))
            || otherConfig.ContainsKey(XoMetadata.CopyOf)
            || tags.Contains(XoMetadata.ReplicaTag);
}

/// <summary>What a pool holds, read live by its agent at <paramref name="ReadAt"/>.</summary>
public sealed record PoolInventory(string Pool, IReadOnlyList<SrInfo> Srs, IReadOnlyList<VmInfo> Vms, DateTimeOffset ReadAt) : IPoolAgentMessage;
