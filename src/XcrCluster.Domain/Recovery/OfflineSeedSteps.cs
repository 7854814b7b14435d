namespace XcrCluster.Domain.Recovery;

/// <summary>Offline seed, first half, on the source pool's agent: a job snapshot of <paramref name="Vm"/> (stamped as a run
/// stamps its snapshot, so it can be the base of the job's next run), each disk exported as a VHD file into
/// <paramref name="Dir"/> (a directory on the node serving the source pool) and a manifest. Run again with the same
/// directory, it resumes: the manifest's snapshot is reused and complete files are kept.</summary>
public sealed record SeedExport(string Vm, JobRef Job, string Dir) : IRecoveryStep;

/// <summary>Offline seed, second half, on the target pool's agent: the files of <paramref name="Dir"/> (a directory on the node
/// serving the target pool) checked against their manifest, then a halted, protected replica made on
/// <paramref name="SrUuid"/> with a restore point matching the exported snapshot, so the job's first run is a delta.</summary>
public sealed record SeedImport(string Dir, string SrUuid, JobRef Job) : IRecoveryStep
{
    /// <summary>The source VM is only known once the manifest is read; until then the step is named by its directory.</summary>
    public string Vm => $"(seed in {Dir})";

    /// <summary>The job's network mapping (source network uuid to target network uuid), before the automatic rule.</summary>
    public IReadOnlyDictionary<string, string>? NetworkMapping { get; init; }

    /// <summary>Restore points kept per SR by the job's schedule (the seed's is the first).</summary>
    public int CopyRetention { get; init; } = 1;
}
