using XcrCluster.Domain;
using XcrCluster.Replication.Recovery;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>Why a run destroys something: the only reasons there are (see <see cref="RunScope"/>).</summary>
public enum DestroyReason
{
    /// <summary>Made by this run, which failed or no longer needs it (a rolled-back disk, a health-check copy).</summary>
    CreatedByThisRun,

    /// <summary>Made by an interrupted run of the same job and VM: it carries that run's marker.</summary>
    LeftoverOfInterruptedRun,

    /// <summary>A replica disk this job made and the replica no longer uses (replaced by the committed new one).</summary>
    ReplacedReplicaDisk,

    /// <summary>A restore point (target: a snapshot, or an older XO's replica VM, <see cref="OldFormatReplica"/>) or job
    /// snapshot (source) that retention removes.</summary>
    Retention,

    /// <summary>A failover-test clone of this VM whose test ended without destroying it (<see cref="FailoverTestMark"/>).</summary>
    FailoverTestOrphan,
}

/// <summary>
/// What a run may destroy, said in one place. A run destroys only:
/// (1) objects it created itself, (2) objects an interrupted run of the same job and VM created, recognised by the
/// marker that the call creating them wrote (<see cref="ImportingKey"/>; a clone inherits it from its pre-marked
/// source), (3) replica disks of this job that the committed replica replaced, and (4) restore points and job
/// snapshots that retention removes, (5) failover-test clones of this VM the product made and a test left behind, named so
/// by the VM.clone call that created them (<see cref="FailoverTestMark"/>). Never anything else: not a started replica, not a
/// running VM, not a VM a
/// person made. Every destroy of a run goes through <see cref="DestroyVmAsync"/> or <see cref="DestroyVdiAsync"/>,
/// which check the record against the reason and refuse otherwise; they alone call the Pool's unchecked destroys
/// (<c>DestroyVmObjectAsync</c>, <c>DestroyVdiObjectAsync</c>; TypedXapiTests holds it).
/// </summary>
public sealed class RunScope(Pool pool, JobRef job, string sourceVmUuid)
{
    /// <summary>On what a run creates until it is part of a committed replica (value: <see cref="Marker"/>).</summary>
    public const string ImportingKey = "xcr:importing";

    /// <summary>On an existing replica while a run updates it in place (value: <see cref="Marker"/>).</summary>
    public const string CommittingKey = "xcr:committing";

    /// <summary>On a replica being updated: the disks it had before ("userdevice:bootable:mode:vdi-uuid,…"), so an
    /// interrupted update can be rolled back.</summary>
    public const string PreviousDisksKey = "xcr:previous-disks";

    private readonly HashSet<string> created = new(StringComparer.Ordinal);
    private readonly List<string> createdVms = [];
    private readonly List<string> createdVdis = [];

    public Pool Pool { get; } = pool;

    public JobRef Job { get; } = job;

    public string SourceVmUuid { get; } = sourceVmUuid;

    /// <summary>The marker of this job and VM: runs of one job on one VM never overlap, so whatever carries it and is
    /// not this run's is a leftover of an interrupted run.</summary>
    public string Marker => $"{Job.JobId}/{SourceVmUuid}";

    /// <summary>Records that this run created the VM (its ref).</summary>
    public string CreatedVm(string @ref)
    {
        created.Add(@ref);
        createdVms.Add(@ref);
        return @ref;
    }

    /// <summary>Records that this run created the VDI (its ref).</summary>
    public string CreatedVdi(string @ref)
    {
        created.Add(@ref);
        createdVdis.Add(@ref);
        return @ref;
    }

    /// <summary>What this run made and still owns, VMs first (destroying a VM takes its disks along).</summary>
    public IReadOnlyList<(string Ref, bool IsVm)> Owned
        => [.. createdVms.Where(created.Contains).Select(r => (r, true)), .. createdVdis.Where(created.Contains).Select(r => (r, false))];

    public bool CreatedHere(string @ref) => created.Contains(@ref);

    /// <summary>The object is part of a committed replica now: a later failure of this run leaves it.</summary>
    public void Kept(string @ref) => created.Remove(@ref);

    public bool IsMarked(IReadOnlyDictionary<string, string> otherConfig)
        => otherConfig.GetValueOrDefault(ImportingKey) == Marker || otherConfig.GetValueOrDefault(CommittingKey) == Marker;

    /// <summary>Destroys a VM (and the disks only it uses) when the reason holds for it; refuses otherwise.</summary>
    public async Task DestroyVmAsync(VmRecord vm, DestroyReason reason)
    {
        var allowed = reason switch
        {
            DestroyReason.CreatedByThisRun => CreatedHere(vm.Ref),
            DestroyReason.LeftoverOfInterruptedRun => IsCreatedMark(vm.OtherConfig)
                || (vm.IsASnapshot && vm.NameLabel == XoMetadata.TempSnapshotName),
            DestroyReason.Retention => (vm.IsASnapshot || OldFormatReplica.IsShaped(vm)) && IsJobSnapshot(vm.OtherConfig),
            DestroyReason.FailoverTestOrphan => IsFailoverTestOrphan(vm),
            _ => false,
        };
        if (!allowed || (vm.PowerState != "Halted" && !CreatedHere(vm.Ref) && !IsCreatedMark(vm.OtherConfig) && !IsFailoverTestOrphan(vm)))
        {
            throw new InvalidOperationException($"refusing to destroy VM {vm.Uuid} ({vm.NameLabel}, {vm.PowerState}) as {reason}: a run "
                + $"destroys only what it made");
        }

        var disks = await Pool.DisksAsync(vm).ConfigureAwait(false);
        if (vm.PowerState != "Halted")
        {
            // Only a health-check copy a run started (this one, or an interrupted one: it carries the marker), or a
            // failover-test clone its test left running.
            await Pool.HardShutdownVmAsync(vm.Ref).ConfigureAwait(false);
        }

        await Pool.DestroyVmObjectAsync(vm.Ref).ConfigureAwait(false);
        created.Remove(vm.Ref);
        foreach (var (_, vdi) in disks)
        {
            await DestroyVdiAsync(vdi, reason == DestroyReason.Retention ? DestroyReason.Retention : DestroyReason.CreatedByThisRun,
                quiet: true, owner: vm)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Destroys a disk no VM uses any more when the reason holds for it; a disk still in use is left. Quietly
    /// (cleanup never hides the error that caused it) unless <paramref name="quiet"/> is false; a disk already gone is
    /// never an error.</summary>
    public async Task DestroyVdiAsync(VdiRecord vdi, DestroyReason reason, bool quiet = true, VmRecord? owner = null)
    {
        var allowed = owner is not null // the disks of a VM destroyed above, once no other VM uses them
            || reason switch
            {
                DestroyReason.CreatedByThisRun => CreatedHere(vdi.Ref),
                DestroyReason.LeftoverOfInterruptedRun => !vdi.IsASnapshot && IsCreatedMark(vdi.OtherConfig),
                // A replica's disk keeps xo:backup:sr after each run; a seed's carries xo:copy_of.
                DestroyReason.ReplacedReplicaDisk => !vdi.IsASnapshot
                    && (vdi.OtherConfig.ContainsKey(XoMetadata.Sr) || vdi.OtherConfig.ContainsKey(XoMetadata.CopyOf)),
                DestroyReason.Retention => IsJobSnapshot(vdi.OtherConfig),
                _ => false,
            };
        if (!allowed)
        {
            throw new InvalidOperationException($"refusing to destroy VDI {vdi.Uuid} ({vdi.NameLabel}) as {reason}: a run destroys "
                + $"only what it made");
        }

        try
        {
            var current = await Pool.VdiAsync(vdi.Ref).ConfigureAwait(false);
            if (current.Vbds.Count == 0)
            {
                await Pool.DestroyVdiObjectAsync(vdi.Ref).ConfigureAwait(false);
            }

            created.Remove(vdi.Ref);
        }
        catch (XapiException e) when (quiet || e.Code is "HANDLE_INVALID" or "UUID_INVALID")
        {
        }
    }

    /// <summary>A failover-test clone of this VM (never a snapshot, a replica or a VM someone made: its name was given by the
    /// VM.clone call of a test) past its test's end.</summary>
    private bool IsFailoverTestOrphan(VmRecord vm)
        => !vm.IsASnapshot && !vm.IsControlDomain && FailoverTestMark.IsOrphanOf(vm.NameLabel, SourceVmUuid, DateTimeOffset.UtcNow);

    /// <summary>Carries the marker a creating call of a run of this job and VM wrote.</summary>
    public bool IsCreatedMark(IReadOnlyDictionary<string, string> otherConfig) => otherConfig.GetValueOrDefault(ImportingKey) == Marker;

    private bool IsJobSnapshot(IReadOnlyDictionary<string, string> otherConfig)
        => otherConfig.GetValueOrDefault(XoMetadata.Vm) == SourceVmUuid
            && (otherConfig.GetValueOrDefault(XoMetadata.Job) == Job.JobId
                || otherConfig.GetValueOrDefault(XoMetadata.Schedule) == Job.ScheduleId);
}
