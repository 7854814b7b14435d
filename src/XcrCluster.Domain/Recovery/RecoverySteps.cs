using System.Text.Json.Serialization;

namespace XcrCluster.Domain.Recovery;

/// <summary>One VM's part of a recovery command that runs on one pool's agent (the node serving that pool), sent in
/// <see cref="Pools.RunRecoveryStep"/>. Each step checks what it needs before it changes anything and answers a
/// <see cref="RecoveryVmOutcome"/>. The discriminator names are ours, so the wire never carries CLR names.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "step")]
[JsonDerivedType(typeof(StartReplica), "start-replica")]
[JsonDerivedType(typeof(ReadSeedSide), "read-seed-side")]
[JsonDerivedType(typeof(WriteSeedSource), "write-seed-source")]
[JsonDerivedType(typeof(WriteSeedTarget), "write-seed-target")]
[JsonDerivedType(typeof(UndoSeedSource), "undo-seed-source")]
[JsonDerivedType(typeof(SeedExport), "seed-export")]
[JsonDerivedType(typeof(SeedImport), "seed-import")]
[JsonDerivedType(typeof(TestReplica), "test-replica")]
[JsonDerivedType(typeof(SourcePower), "source-power")]
[JsonDerivedType(typeof(BlockSourceStart), "block-source-start")]
[JsonDerivedType(typeof(ReverseDelta), "reverse-delta")]
public interface IRecoveryStep
{
    /// <summary>The source VM the step is about.</summary>
    string Vm { get; }
}

/// <summary>Failover on the replica's pool: a fast clone of a restore point (<paramref name="Force"/> false; the newest of
/// <paramref name="JobId"/>'s on the SR unless <paramref name="RestorePointUuid"/> names one) started with its start
/// blocks removed, or the live replica itself started (<paramref name="Force"/>: it leaves the chain).</summary>
public sealed record StartReplica(string Vm, string SrUuid, bool Force, string? RestorePointUuid = null, string? JobId = null)
    : IRecoveryStep
{
    /// <summary>Check and report what would be done, change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>The newest restore point as the VM's entity saw them committed: it decides between restore points of one
    /// second (the resolution of <c>xo:backup:datetime</c>).</summary>
    public string? Newest { get; init; }

    /// <summary>Start the VM (false: prepare it and leave it halted, e.g. a whole-site failover that starts VMs in order).</summary>
    public bool Start { get; init; } = true;

    /// <summary>The job's network mapping (source network uuid to target network uuid): a VIF off its mapped network is
    /// moved before the start.</summary>
    public IReadOnlyDictionary<string, string>? Networks { get; init; }
}
