using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;

namespace XcrCluster.Domain.Recovery;

/// <summary>What `xcr seed` checks on the API node once both sides are read, before anything changes: the source is a
/// snapshot of a VM of the job on the job's source pool, not a replica's; the target is a halted VM (not the source
/// itself) whose disks pair up with the snapshot's by VBD userdevice with equal virtual sizes, all on one SR the job
/// replicates to on that pool.</summary>
public static class SeedCheck
{
    /// <summary>Null and the target SR when the seed may go ahead; else why not.</summary>
    public static (string? Refusal, string SrUuid) Check(JobDefinition job, string sourcePool, string targetPool, SeedView source,
        SeedView target)
    {
        if ((SourceRefusal(job, sourcePool, source) ?? TargetRefusal(source, target)) is { } refusal)
        {
            return (refusal, "");
        }

        var sr = TargetSr(job, targetPool, target, out var why);
        return sr is null ? (why, "") : (null, sr);
    }

    private static string? SourceRefusal(JobDefinition job, string pool, SeedView source)
    {
        if (!source.IsASnapshot)
        {
            return $"{source.Uuid} ({source.NameLabel}) is not a snapshot: give the uuid of the snapshot that was exported";
        }

        if (source.SnapshotOfUuid is not { } vm)
        {
            return $"the VM snapshot {source.Uuid} was taken of no longer exists";
        }

        if (source.IsCopy || source.Disks.Any(d => d.IsCopy))
        {
            return $"snapshot {source.Uuid} is a replica's restore point (xo:copy_of), not a snapshot of a source VM";
        }

        if (job.SourcePool != pool && job.Smart?.Pool != pool)
        {
            return $"job {job.Id} replicates VMs of pool {job.SourcePool}, not of pool {pool}";
        }

        if (!job.Vms.Contains(vm) && !SmartMatch(job.Smart, pool, source))
        {
            return $"snapshot {source.Uuid} is of VM {vm} ({source.SnapshotOfName}), which is not a VM of job {job.Id}";
        }

        if (source.Disks.Count == 0)
        {
            return $"snapshot {source.Uuid} has no disks: there is nothing to seed";
        }

        return source.Disks.FirstOrDefault(d => d.Attached != 1) is { } shared
            ? $"disk {shared.VdiUuid} of snapshot {source.Uuid} is attached to {shared.Attached} VMs: a job snapshot's disks "
                + "belong to it alone"
            : null;
    }

    private static bool SmartMatch(SmartSelection? smart, string pool, SeedView source)
        => smart is not null && smart.Pool == pool && smart.Tags.All(source.SnapshotOfTags.Contains)
            && !smart.ExcludedTags.Any(source.SnapshotOfTags.Contains)
            && !source.SnapshotOfTags.Any(t => t == SmartSelection.NoBackupTag
                || t.StartsWith(SmartSelection.NoBackupTag + "=", StringComparison.Ordinal))
            && (smart.PowerState is null
                || string.Equals(smart.PowerState, source.SnapshotOfPowerState, StringComparison.OrdinalIgnoreCase));

    private static string? TargetRefusal(SeedView source, SeedView target)
    {
        // A template is accepted: the XVA of a snapshot imports as one (a snapshot is a template), and the seed makes it a VM.
        if (target.IsASnapshot)
        {
            return $"target {target.Uuid} is a snapshot: give the uuid of the VM imported from the exported snapshot";
        }

        if (target.Uuid == source.SnapshotOfUuid)
        {
            return $"target VM {target.Uuid} is the source VM itself";
        }

        if (target.PowerState != "Halted")
        {
            return $"target VM {target.Uuid} is {target.PowerState.ToLowerInvariant()}: a seed VM must be halted (and never started: "
                + "its disks must stay equal to the snapshot's)";
        }

        var targetDisks = target.Disks.ToDictionary(d => d.Userdevice);
        foreach (var disk in source.Disks)
        {
            if (!targetDisks.TryGetValue(disk.Userdevice, out var paired))
            {
                return $"disk {disk.Userdevice} of the snapshot has no disk at the same userdevice on target VM {target.Uuid}";
            }

            if (paired.VirtualSize != disk.VirtualSize)
            {
                return $"disk {disk.Userdevice}: the snapshot's is {disk.VirtualSize} bytes, target VM {target.Uuid}'s is "
                    + $"{paired.VirtualSize} bytes: paired disks must have the same virtual size";
            }
        }

        return target.Disks.FirstOrDefault(d => source.Disks.All(s => s.Userdevice != d.Userdevice)) is { } extra
            ? $"disk {extra.Userdevice} of target VM {target.Uuid} has no disk at the same userdevice in the snapshot"
            : null;
    }

    /// <summary>The one SR of the target's disks when the job replicates to it on <paramref name="pool"/>.</summary>
    private static string? TargetSr(JobDefinition job, string pool, SeedView target, out string? why)
    {
        var srs = target.Disks.Select(d => d.SrUuid).Distinct().ToList();
        if (srs.Count != 1)
        {
            why = srs.Count == 0 ? $"target VM {target.Uuid} has no disks"
                : $"the disks of target VM {target.Uuid} are on {srs.Count} SRs: a replica's disks are on one target SR";
            return null;
        }

        if (!job.Targets.Any(t => t.Pool == pool && t.SrUuid == srs[0]))
        {
            why = $"the disks of target VM {target.Uuid} are on SR {srs[0]} of pool {pool}, which is not a target of job {job.Id} "
                + $"(its targets: {string.Join(", ", job.Targets.Select(t => $"{t.Pool}:{t.SrUuid}"))})";
            return null;
        }

        why = null;
        return srs[0];
    }
}
