namespace XcrCluster.Domain.Recovery;

/// <summary>What a planned failover does to the source VM before its final run: what the source pool's agent found and did
/// is in the outcome's details (<c>powerState</c> before, <c>shutdown</c> "true" when it shut the VM down).</summary>
public enum SourcePowerAction
{
    /// <summary>Check the VM exists and can be failed over (no change): Running or Halted.</summary>
    Check,

    /// <summary>Shut the VM down cleanly (the guest flushes its disks), nothing when it is halted already.</summary>
    CleanShutdown,

    /// <summary>Start the VM again (a planned failover that failed after the shutdown: nothing lost, the source runs again).</summary>
    Start,
}

/// <summary>Planned failover on the source VM's pool: its power (<see cref="SourcePowerAction"/>).</summary>
public sealed record SourcePower(string Vm, SourcePowerAction Action) : IRecoveryStep;

/// <summary>Planned failover's end on the source VM's pool: the VM stays halted with start and start_on blocked by
/// <paramref name="Message"/> (naming the replica that now runs in its place), and the replica recorded in its other_config;
/// <paramref name="Block"/> false removes those blocks again (failback --resume).</summary>
public sealed record BlockSourceStart(string Vm, bool Block, string Message, string? ReplicaUuid, string? ReplicaPool, string? RecordId)
    : IRecoveryStep;
