using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Control;

/// <summary>Every message of the control plane singleton (pools and jobs) and of the scheduler; the serializer is bound
/// to it. Each belongs to one family below: what is asked (commands, queries), what is answered, what is persisted.</summary>
public interface IControlMessage
{
}

/// <summary>What the control plane is asked: a command (it may change the books) or a query (it never does).</summary>
public interface IControlRequest : IControlMessage
{
}

/// <summary>A change asked of the books: answered <see cref="Done"/> with an event persisted, or refused.</summary>
public interface IControlCommand : IControlRequest
{
}

/// <summary>A read of the books: answered at once, nothing persisted.</summary>
public interface IControlQuery : IControlRequest
{
}

/// <summary>Every answer of the control plane.</summary>
public interface IControlReply : IControlMessage
{
}

/// <summary>What the control plane persists; applied to <see cref="ControlState"/>.</summary>
public interface IControlEvent : IControlMessage
{
}

/// <summary>A registered pool. The credentials are only ever held encrypted with the cluster key.</summary>
public sealed record PoolRegistration(string Name, string Url, string User, string EncryptedPassword, string? Fingerprint,
    bool AllowUnauthorized);

/// <summary>A job: VMs by uuid on one source pool and/or a smart selection resolved at each run, target SRs, settings,
/// and one or more schedules (the first is the one a run by hand and a seed use). Like Xen Orchestra, restore points
/// and snapshots are scoped by schedule.</summary>
public sealed record JobDefinition(string Id, string Name, string SourcePool, IReadOnlyList<string> Vms, IReadOnlyList<TargetRef> Targets,
    ReplicationSettings Settings)
{
    public IReadOnlyList<JobSchedule> Schedules { get; init; } = [];

    /// <summary>VMs chosen at run time by pool, tags and power state (replicas and xo:no-bak VMs never).</summary>
    public SmartSelection? Smart { get; init; }

    public DateTimeOffset Defined { get; init; }

    /// <summary>The job's RPO target, run through its first schedule (see <see cref="RpoRules"/>). Kept on the job, not in
    /// <see cref="ReplicationSettings"/>: settings say what a run does (and travel with every request to a VM), the RPO says
    /// when runs are needed, as a schedule's cron does; a schedule's own <see cref="JobSchedule.Rpo"/> wins over it.</summary>
    public TimeSpan? Rpo { get; init; }

    /// <summary>Whether the schedule starts runs by itself (a cron or an RPO target), so enabling it means something.</summary>
    public bool RunsByItself(JobSchedule s) => s.Cron is not null || s.Rpo is not null || Rpo is not null && s.Id == ScheduleId;

    /// <summary>The first schedule's id: the one of runs by hand (and of xo-cr-seed's --schedule).</summary>
    public string ScheduleId => Schedules.Count > 0 ? Schedules[0].Id : "";

    public JobSchedule? Schedule(string id) => Schedules.FirstOrDefault(s => s.Id == id);
}

/// <summary>A schedule of a job: when it runs by itself (5-field cron, or 6 with seconds, in a time zone; without
/// cron only by hand) and what it overrides of the job's settings — Xen Orchestra keeps copyRetention and
/// fullInterval per schedule, and "force full" makes every run of the schedule a full.</summary>
public sealed record JobSchedule(string Id, string? Cron = null, string TimeZone = "UTC", bool Enabled = true)
{
    public string Name { get; init; } = "";

    /// <summary>The lag (now minus the newest restore point's snapshot time) the scheduler keeps each VM under by running it
    /// as often as needed, next to or instead of the cron; null: the job's, if any.</summary>
    public TimeSpan? Rpo { get; init; }

    public int? CopyRetention { get; init; }

    public int? FullInterval { get; init; }

    public bool ForceFull { get; init; }

    /// <summary>Xen Orchestra keeps the health check per schedule: null = the job's; "" = no health check in this schedule.</summary>
    public string? HealthCheckSr { get; init; }

    /// <summary>null = the job's; empty = every VM.</summary>
    public IReadOnlyList<string>? HealthCheckVmsWithTags { get; init; }

    /// <summary>null = the job's.</summary>
    public TimeSpan? HealthCheckTimeout { get; init; }

    /// <summary>The job's settings as a run of this schedule uses them.</summary>
    public ReplicationSettings Apply(ReplicationSettings job)
        => job with
        {
            CopyRetention = CopyRetention ?? job.CopyRetention, FullInterval = ForceFull ? 1 : FullInterval ?? job.FullInterval,
            HealthCheckSr = HealthCheckSr is { } sr ? (sr.Length == 0 ? null : sr) : job.HealthCheckSr,
            HealthCheckVmsWithTags = HealthCheckVmsWithTags ?? job.HealthCheckVmsWithTags,
            HealthCheckTimeout = HealthCheckTimeout ?? job.HealthCheckTimeout,
        };
}

/// <summary>A run the control plane started (by hand or by a schedule): which VMs it asked for, so a run can be
/// found by id and the replicas of VMs no job covers any more are still listed (as orphans).</summary>
public sealed record RunLaunch(string RunId, string JobId, string ScheduleId, IReadOnlyList<string> Vms, string Trigger, DateTimeOffset At);

/// <summary>Registers a pool; a pool of that name is replaced only when <paramref name="Replace"/> says so
/// (else the reply is <see cref="Conflict"/>).</summary>
public sealed record RegisterPool(PoolRegistration Pool, bool Replace = false) : IControlCommand;

public sealed record DefineJob(JobDefinition Job) : IControlCommand;

/// <summary>`xcr job set`: settings by name with text values (see <see cref="JobChanges"/>).</summary>
public sealed record ChangeJob(string Id, IReadOnlyDictionary<string, string> Changes) : IControlCommand;

public sealed record DeleteJob(string Id) : IControlCommand;

public sealed record AddSchedule(string JobId, JobSchedule Schedule) : IControlCommand;

public sealed record RemoveSchedule(string JobId, string ScheduleId) : IControlCommand;

/// <summary>`xcr job schedule set`: a schedule's settings by name with text values (see <see cref="ScheduleChanges"/>).</summary>
public sealed record ChangeSchedule(string JobId, string ScheduleId, IReadOnlyDictionary<string, string> Changes) : IControlCommand;

/// <summary>Turns one schedule on or off (<see cref="EnableJob"/> does it for every schedule of the job).</summary>
public sealed record EnableSchedule(string JobId, string ScheduleId, bool Enabled) : IControlCommand;

/// <summary>Turns a job's schedules on or off (the job can always be run by hand).</summary>
public sealed record EnableJob(string Id, bool Enabled) : IControlCommand;

public sealed record RecordRun(RunLaunch Run) : IControlCommand;

/// <summary>A VM's replicas were purged and no job covers it: it leaves the list of known VMs.</summary>
public sealed record ForgetVm(string Vm) : IControlCommand;

/// <summary>Keeps what a recovery command did, so `xcr run show` finds it by id like a run.</summary>
public sealed record RecordRecovery(RecoveryRecord Record) : IControlCommand;

public sealed record GetPools : IControlQuery;

public sealed record GetRecovery(string Id) : IControlQuery;

public sealed record RecoveryReply(RecoveryRecord? Record) : IControlReply;

public sealed record GetJob(string Id) : IControlQuery;

public sealed record GetJobs : IControlQuery;

/// <summary>Every VM a job ever replicated (jobs' VMs and the VMs of recorded runs), and the recorded runs.</summary>
public sealed record GetKnown : IControlQuery;

public sealed record Known(IReadOnlyList<string> Vms, IReadOnlyList<RunLaunch> Runs) : IControlReply;

/// <summary>Replies: what was stored, or why not (400-style, naming the field).</summary>
public sealed record Done(string Id) : IControlReply;

public sealed record Refused(string Reason) : IControlReply;

/// <summary>The command names an id that does not exist (404-style).</summary>
public sealed record NotFound(string Reason) : IControlReply;

/// <summary>The command collides with what exists and was not asked to replace it (409-style).</summary>
public sealed record Conflict(string Reason) : IControlReply;

public sealed record PoolList(IReadOnlyList<PoolRegistration> Pools) : IControlReply;

public sealed record JobList(IReadOnlyList<JobDefinition> Jobs) : IControlReply;

public sealed record JobReply(JobDefinition? Job) : IControlReply;

public sealed record PoolRegistered(PoolRegistration Pool) : IControlEvent;

public sealed record JobDefined(JobDefinition Job) : IControlEvent;

public sealed record JobDeleted(string Id) : IControlEvent;

public sealed record JobEnabled(string Id, bool Enabled) : IControlEvent;

public sealed record ScheduleAdded(string JobId, JobSchedule Schedule) : IControlEvent;

public sealed record ScheduleRemoved(string JobId, string ScheduleId) : IControlEvent;

public sealed record ScheduleEnabled(string JobId, string ScheduleId, bool Enabled) : IControlEvent;

public sealed record RunRecorded(RunLaunch Run) : IControlEvent;

public sealed record VmForgotten(string Vm) : IControlEvent;

public sealed record RecoveryRecorded(RecoveryRecord Record) : IControlEvent;
