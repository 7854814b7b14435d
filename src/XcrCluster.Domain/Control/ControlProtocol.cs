using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Control;

/// <summary>Every message of the control plane singleton (pools and jobs); the serializer is bound to it.</summary>
public interface IControlMessage
{
}

/// <summary>A registered pool. The credentials are only ever held encrypted with the cluster key.</summary>
public sealed record PoolRegistration(string Name, string Url, string User, string EncryptedPassword, string? Fingerprint, bool AllowUnauthorized);

/// <summary>A job: VMs by uuid on one source pool, target SRs, one schedule, settings. Without a cron expression
/// the job only runs by hand.</summary>
public sealed record JobDefinition(string Id, string Name, string ScheduleId, string SourcePool, IReadOnlyList<string> Vms, IReadOnlyList<TargetRef> Targets, ReplicationSettings Settings)
{
    public JobSchedule? Schedule { get; init; }

    public DateTimeOffset Defined { get; init; }
}

/// <summary>When a job runs by itself: a 5-field cron expression (6 fields: with seconds) in a time zone.</summary>
public sealed record JobSchedule(string Cron, string TimeZone = "UTC", bool Enabled = true);

public sealed record RegisterPool(PoolRegistration Pool) : IControlMessage;

public sealed record DefineJob(JobDefinition Job) : IControlMessage;

public sealed record GetPools : IControlMessage;

public sealed record GetJob(string Id) : IControlMessage;

public sealed record GetJobs : IControlMessage;

/// <summary>Turns a job's schedule on or off (the job can always be run by hand).</summary>
public sealed record EnableJob(string Id, bool Enabled) : IControlMessage;

public sealed record JobEnabled(string Id, bool Enabled) : IControlMessage;

public sealed record JobList(IReadOnlyList<JobDefinition> Jobs) : IControlMessage;

/// <summary>Replies: what was stored, or why not (400-style, naming the field).</summary>
public sealed record Done(string Id) : IControlMessage;

public sealed record Refused(string Reason) : IControlMessage;

public sealed record PoolList(IReadOnlyList<PoolRegistration> Pools) : IControlMessage;

public sealed record JobReply(JobDefinition? Job) : IControlMessage;

public sealed record PoolRegistered(PoolRegistration Pool) : IControlMessage;

public sealed record JobDefined(JobDefinition Job) : IControlMessage;
