namespace XcrCluster.Domain.Recovery;

/// <summary>A failover test of one VM on its replica's pool: a fast clone of the newest restore point of
/// <paramref name="JobId"/> on <paramref name="SrUuid"/>, its VIFs on <paramref name="NetworkUuid"/> (an isolated network of
/// that pool) or none, started, waited on until its guest answers (PV drivers detected) for at most
/// <paramref name="TimeoutSeconds"/>, then destroyed whatever happened. The replica and its restore points stay as they are.</summary>
public sealed record TestReplica(string Vm, string SrUuid, string? JobId, string? NetworkUuid, long TimeoutSeconds) : IRecoveryStep;
