using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Control;

/// <summary>Every message of the control plane singleton (pools and jobs); the serializer is bound to it.</summary>
public interface IControlMessage
{
}

/// <summary>A registered pool. The credentials are only ever held encrypted with the cluster key.</summary>
public sealed record PoolRegistration(string Name, string Url, string User, string EncryptedPassword, string? Fingerprint, bool AllowUnauthorized);

/// <summary>A job as the engine issue needs it: VMs by uuid on one source pool, target SRs, one schedule, settings.</summary>
public sealed record JobDefinition(string Id, string Name, string ScheduleId, string SourcePool, IReadOnlyList<string> Vms, IReadOnlyList<TargetRef> Targets, ReplicationSettings Settings);

public sealed record RegisterPool(PoolRegistration Pool) : IControlMessage;

public sealed record DefineJob(JobDefinition Job) : IControlMessage;

public sealed record GetPools : IControlMessage;

public sealed record GetJob(string Id) : IControlMessage;

/// <summary>Replies: what was stored, or why not (400-style, naming the field).</summary>
public sealed record Done(string Id) : IControlMessage;

public sealed record Refused(string Reason) : IControlMessage;

public sealed record PoolList(IReadOnlyList<PoolRegistration> Pools) : IControlMessage;

public sealed record JobReply(JobDefinition? Job) : IControlMessage;

public sealed record PoolRegistered(PoolRegistration Pool) : IControlMessage;

public sealed record JobDefined(JobDefinition Job) : IControlMessage;
