using System.Text.Json;

namespace XcrCluster.Domain.Recovery;

/// <summary>A disk of a seed's source snapshot or target VM: its VBD's userdevice, its VDI, size, SR, how many VBDs attach it,
/// and whether it already carries <c>xo:copy_of</c> (a replica's disk, never a source).</summary>
public sealed record SeedDisk(string Userdevice, string VdiUuid, long VirtualSize, string SrUuid, int Attached, bool IsCopy);

/// <summary>What `xcr seed` reads of one side before it changes anything: the source snapshot (with the VM it is a snapshot
/// of) or the target VM. The API node validates the two together (<see cref="SeedCheck"/>); each write step re-reads its side
/// and refuses when it is no longer what was validated.</summary>
public sealed record SeedView(string Uuid, string NameLabel, bool IsASnapshot, bool IsATemplate, string PowerState, string SnapshotTime,
    IReadOnlyList<SeedDisk> Disks)
{
    /// <summary>The VM a snapshot was taken of (null: not a snapshot, or its VM is gone).</summary>
    public string? SnapshotOfUuid { get; init; }

    public string SnapshotOfName { get; init; } = "";

    public IReadOnlyList<string> SnapshotOfTags { get; init; } = [];

    public string SnapshotOfPowerState { get; init; } = "";

    /// <summary>The object already carries <c>xo:copy_of</c>: made by a replication.</summary>
    public bool IsCopy { get; init; }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The read step answers its view in the outcome's details under this key (the outcome is the protocol's only
    /// answer); <see cref="From"/> reads it back.</summary>
    public const string DetailsKey = "seedView";

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static SeedView? From(RecoveryVmOutcome outcome)
        => outcome.Details.GetValueOrDefault(DetailsKey) is { } json ? JsonSerializer.Deserialize<SeedView>(json, Json) : null;

    /// <summary>The same object in the same state as far as a seed is concerned (names and times aside).</summary>
    public bool SameAs(SeedView other) => Uuid == other.Uuid && PowerState == other.PowerState && IsASnapshot == other.IsASnapshot
        && SnapshotOfUuid == other.SnapshotOfUuid && Disks.SequenceEqual(other.Disks);
}

/// <summary>Reads one side of a seed (the source snapshot or the target VM), changes nothing; the view is in the outcome's
/// details (<see cref="SeedView.From"/>). <c>Vm</c> is the uuid read.</summary>
public sealed record ReadSeedSide(string Vm, string Uuid) : IRecoveryStep;

/// <summary>The source half of a seed: the snapshot <paramref name="Expected"/> describes gets the keys of an exported job
/// snapshot on the VM and on each disk. The outcome's details hold what the keys were before (<see cref="SeedPrior"/>).</summary>
public sealed record WriteSeedSource(string Vm, JobSeed Seed, SeedView Expected) : IRecoveryStep;

/// <summary>The target half: the seed VM gets xo-cr-seed's metadata and a restore point of the source snapshot.</summary>
public sealed record WriteSeedTarget(string Vm, JobSeed Seed, SeedView Source, SeedView Expected, string SrUuid) : IRecoveryStep;

/// <summary>Puts back the other_config keys a <see cref="WriteSeedSource"/> changed (its target half failed).</summary>
public sealed record UndoSeedSource(string Vm, string SnapshotUuid, SeedPrior Prior) : IRecoveryStep;

/// <summary>The job, schedule and source VM a seed links, with the names the restore point is named after.</summary>
public sealed record JobSeed(string JobId, string JobName, string ScheduleId, string ScheduleName, string SourceVmUuid);

/// <summary>What a seed's write changed, as it was before, so a failure puts it back: other_config keys per VM and per VDI
/// uuid (a null value: the key was absent), and the target VM's name and start blocks.</summary>
public sealed record SeedPrior(IReadOnlyDictionary<string, Dictionary<string, string?>> Vms,
    IReadOnlyDictionary<string, Dictionary<string, string?>> Vdis)
{
    public string? NameLabel { get; init; }

    public IReadOnlyDictionary<string, string?> BlockedOperations { get; init; } = new Dictionary<string, string?>();

    /// <summary>The target was a template (an imported snapshot is one) and the seed made it a VM.</summary>
    public bool WasATemplate { get; init; }

    public const string DetailsKey = "seedPrior";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static SeedPrior? From(RecoveryVmOutcome outcome)
        => outcome.Details.GetValueOrDefault(DetailsKey) is { } json ? JsonSerializer.Deserialize<SeedPrior>(json, Json) : null;
}
