namespace XcrCluster.Domain.Recovery;

/// <summary>Failback on the started replica's pool, with a session to the source pool too (<paramref name="SourcePool"/>;
/// both pools served by this node): the blocks the replica changed since the newest snapshot both sides share (by
/// <c>xo:backup:contentKey</c>) sent back into the original VM in place, or into a new VM on its SR when the original
/// changed since. <paramref name="SkipIfDone"/>: a VM already failed back from this replica is a success (resume), not a
/// refusal. With <paramref name="ReplicaPool"/> set the step runs on the source pool's agent instead, the replica's pool
/// being served by another node: its agent there reads the replica and sends the deltas over the data channel.</summary>
public sealed record ReverseDelta(string Vm, string SourcePool, bool SkipIfDone, string? ReplicaPool = null) : IRecoveryStep;
