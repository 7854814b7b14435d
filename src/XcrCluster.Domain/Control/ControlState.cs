using System.Collections.Immutable;

namespace XcrCluster.Domain.Control;

/// <summary>Registered pools, defined jobs with their schedules, the runs started and every VM a job ever covered,
/// with validation that names the bad field. Pure: commands in, (event, reply) out; events applied.</summary>
public sealed record ControlState
{
    /// <summary>Runs remembered for lookup by id (the VMs' entities keep the results).</summary>
    public const int RunsKept = 1000;

    public ImmutableDictionary<string, PoolRegistration> Pools { get; init; } = ImmutableDictionary<string, PoolRegistration>.Empty;

    public ImmutableDictionary<string, JobDefinition> Jobs { get; init; } = ImmutableDictionary<string, JobDefinition>.Empty;

    public ImmutableList<RunLaunch> Runs { get; init; } = [];

    /// <summary>Recovery commands remembered for lookup by id, the newest last.</summary>
    public const int RecoveriesKept = 500;

    public ImmutableList<Recovery.RecoveryRecord> Recoveries { get; init; } = [];

    public ImmutableSortedSet<string> KnownVms { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Where notices go (<see cref="Notifiers"/>), by id.</summary>
    public ImmutableDictionary<string, NotifyTarget> NotifyTargets { get; init; } = ImmutableDictionary<string, NotifyTarget>.Empty;

    public (IControlEvent? Event, IControlReply Reply) Process(IControlRequest command) => command switch
    {
        RegisterPool r when PoolInvalid(r.Pool) is { } bad => (null, new Refused(bad)),
        RegisterPool r when !r.Replace && Pools.ContainsKey(r.Pool.Name) => (null, new Conflict(PoolExists(r.Pool.Name))),
        RegisterPool r => (new PoolRegistered(r.Pool), new Done(r.Pool.Name)),
        DefineJob d when Invalid(d.Job) is { } bad => (null, new Refused(bad)),
        DefineJob d when IdTaken(d.Job) is { } taken => (null, new Conflict(taken)),
        DefineJob d => (new JobDefined(d.Job), new Done(d.Job.Id)),
        ChangeJob c when !Jobs.ContainsKey(c.Id) => (null, new NotFound($"no job {c.Id}")),
        ChangeJob c => JobChanges.Apply(Jobs[c.Id], c.Changes) switch
        {
            (_, { } error) => (null, new Refused(error)),
            ({ } job, _) when Invalid(job) is { } bad => (null, new Refused(bad)),
            ({ } job, _) => (new JobDefined(job), new Done(job.Id)),
            _ => (null, new Refused("nothing changed")),
        },
        DeleteJob d when !Jobs.ContainsKey(d.Id) => (null, new NotFound($"no job {d.Id}")),
        DeleteJob d => (new JobDeleted(d.Id), new Done(d.Id)),
        AddSchedule a when !Jobs.ContainsKey(a.JobId) => (null, new NotFound($"no job {a.JobId}")),
        AddSchedule a when Jobs[a.JobId].Schedule(a.Schedule.Id) is not null => (null, new Refused($"schedule {a.Schedule.Id} exists")),
        AddSchedule a when ScheduleInvalid(a.Schedule) is { } bad => (null, new Refused(bad)),
        AddSchedule a when Owner(a.Schedule.Id) is { } owner => (null, new Conflict($"schedule {a.Schedule.Id}: used by job {owner}")),
        AddSchedule a => (new ScheduleAdded(a.JobId, a.Schedule), new Done(a.Schedule.Id)),
        RemoveSchedule r when Jobs.GetValueOrDefault(r.JobId)?.Schedule(r.ScheduleId) is null =>
            (null, new NotFound($"no schedule {r.ScheduleId} in job {r.JobId}")),
        RemoveSchedule r when Jobs[r.JobId].Schedules.Count == 1 =>
            (null, new Refused("schedule: a job keeps at least one schedule (its id scopes the restore points)")),
        RemoveSchedule r => (new ScheduleRemoved(r.JobId, r.ScheduleId), new Done(r.ScheduleId)),
        ChangeSchedule c when Jobs.GetValueOrDefault(c.JobId)?.Schedule(c.ScheduleId) is null =>
            (null, new NotFound($"no schedule {c.ScheduleId} in job {c.JobId}")),
        ChangeSchedule c => ScheduleChanges.Apply(Jobs[c.JobId], c.ScheduleId, c.Changes) switch
        {
            (_, { } error) => (null, new Refused(error)),
            ({ } job, _) when Invalid(job) is { } bad => (null, new Refused(bad)),
            ({ } job, _) => (new JobDefined(job), new Done(c.ScheduleId)),
            _ => (null, new Refused("nothing changed")),
        },
        EnableSchedule e when Jobs.GetValueOrDefault(e.JobId)?.Schedule(e.ScheduleId) is null =>
            (null, new NotFound($"no schedule {e.ScheduleId} in job {e.JobId}")),
        EnableSchedule e when !Jobs[e.JobId].RunsByItself(Jobs[e.JobId].Schedule(e.ScheduleId)!) =>
            (null, new Refused($"schedule {e.ScheduleId} has no cron nor rpo: it runs by hand only")),
        EnableSchedule e => (new ScheduleEnabled(e.JobId, e.ScheduleId, e.Enabled), new Done(e.ScheduleId)),
        EnableJob e when !Jobs.ContainsKey(e.Id) => (null, new NotFound($"no job {e.Id}")),
        EnableJob e when !Jobs[e.Id].Schedules.Any(Jobs[e.Id].RunsByItself) =>
            (null, new Refused($"job {e.Id} has no schedule with a cron or an rpo: it runs by hand only")),
        EnableJob e => (new JobEnabled(e.Id, e.Enabled), new Done(e.Id)),
        RecordRun r => (new RunRecorded(r.Run), new Done(r.Run.RunId)),
        RecordRecovery r => (new RecoveryRecorded(r.Record), new Done(r.Record.Id)),
        GetRecovery g => (null, new RecoveryReply(Recoveries.FindLast(x => x.Id == g.Id))),
        ForgetVm f when JobCoverage.Covering(Jobs.Values, Runs, f.Vm).Count > 0 => (null, new Refused($"vm: {f.Vm} is still in a job")),
        ForgetVm f => (new VmForgotten(f.Vm), new Done(f.Vm)),
        GetPools => (null, new PoolList([.. Pools.Values.OrderBy(p => p.Name, StringComparer.Ordinal)])),
        GetJob g => (null, new JobReply(Jobs.GetValueOrDefault(g.Id))),
        GetJobs => (null, new JobList([.. Jobs.Values.OrderBy(j => j.Id, StringComparer.Ordinal)])),
        GetKnown => (null, new Known([.. KnownVms], Runs)),
        AddNotifyTarget or RemoveNotifyTarget or GetNotifyTargets => Notifiers.Process(this, command),
        _ => (null, new Refused($"unknown command {command.GetType().Name}")),
    };

    /// <summary>What is wrong with a pool registration, naming the field, or null. Public so the API refuses bad input
    /// before it tries to log in with it.</summary>
    public static string? PoolInvalid(PoolRegistration p) => p switch
    {
        _ when string.IsNullOrWhiteSpace(p.Name) || p.Name.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-')
            => "name: letters, digits and '-' only",
        _ when !Uri.TryCreate(p.Url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")
            => "url: an http(s) XAPI URL is required",
        _ when p.User.Length == 0 => "username: required",
        { Fingerprint: { } f } when f.Replace(":", "", StringComparison.Ordinal).Trim() is var hex
            && (hex.Length != 64 || !hex.All(Uri.IsHexDigit)) => "fingerprint: a SHA-256 fingerprint is 64 hex digits (colons allowed)",
        _ => null,
    };

    /// <summary>The refusal of a registration under a name already taken, saying how to replace it.</summary>
    public static string PoolExists(string name)
        => $"name: a pool named {name} is registered; replace it explicitly (\"replace\": true, xcr pool add --replace)";

    public ControlState Apply(IControlEvent e) => e switch
    {
        PoolRegistered r => this with { Pools = Pools.SetItem(r.Pool.Name, r.Pool) },
        JobDefined d => this with { Jobs = Jobs.SetItem(d.Job.Id, d.Job), KnownVms = KnownVms.Union(d.Job.Vms) },
        JobDeleted d => this with { Jobs = Jobs.Remove(d.Id) },
        JobEnabled x =>
            Change(x.Id, j => j with { Schedules = [.. j.Schedules.Select(s => !j.RunsByItself(s) ? s : s with { Enabled = x.Enabled })] }),
        ScheduleAdded a => Change(a.JobId, j => j with { Schedules = [.. j.Schedules, a.Schedule] }),
        ScheduleRemoved r => Change(r.JobId, j => j with { Schedules = [.. j.Schedules.Where(s => s.Id != r.ScheduleId)] }),
        ScheduleEnabled x =>
            Change(x.JobId,
            j => j with { Schedules = [.. j.Schedules.Select(s => s.Id == x.ScheduleId ? s with { Enabled = x.Enabled } : s)] }),
        RunRecorded r => this with { Runs = Runs.Count >= RunsKept ? Runs.RemoveAt(0).Add(r.Run) : Runs.Add(r.Run),
            KnownVms = KnownVms.Union(r.Run.Vms) },
        RecoveryRecorded r => this with
        {
            Recoveries = (Recoveries.Count >= RecoveriesKept ? Recoveries.RemoveAt(0) : Recoveries).Add(r.Record),
        },
        VmForgotten f => this with { KnownVms = KnownVms.Remove(f.Vm) },
        NotifyTargetAdded or NotifyTargetRemoved => this with { NotifyTargets = Notifiers.Apply(NotifyTargets, e) },
        _ => this,
    };

    private ControlState Change(string jobId, Func<JobDefinition, JobDefinition> change)
        => Jobs.TryGetValue(jobId, out var job) ? this with { Jobs = Jobs.SetItem(jobId, change(job)) } : this;

    /// <summary>Whether an id given from outside (a Xen Orchestra job or schedule id, a uuid there) has the shape of ours:
    /// letters, digits and '-', at most 64; they name snapshots' metadata and URL segments.</summary>
    public static bool IdValid(string id) => id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    /// <summary>The job owning an id as its own or one of its schedules', or null. A restore point names its job and schedule,
    /// so one id never serves two jobs.</summary>
    private string? Owner(string id)
        => Jobs.ContainsKey(id) ? id : Jobs.Values.FirstOrDefault(j => j.Schedules.Any(s => s.Id == id))?.Id;

    /// <summary>Why a new job's id or a schedule id of it is already used, or null.</summary>
    private string? IdTaken(JobDefinition j)
        => Owner(j.Id) is { } owner ? $"id: {j.Id} is used by job {owner}"
            : j.Schedules.Select(s => (s.Id, Owner: Owner(s.Id))).FirstOrDefault(s => s.Owner is not null) is { Owner: { } other } taken
                ? $"schedule {taken.Id}: used by job {other}" : null;

    /// <summary>What is wrong with a job, naming the field, or null.</summary>
    private string? Invalid(JobDefinition j) => j switch
    {
        _ when !IdValid(j.Id) => "id: letters, digits and '-' only, at most 64",
        _ when string.IsNullOrWhiteSpace(j.Name) => "name: required",
        _ when !Pools.ContainsKey(j.SourcePool) => $"sourcePool: unknown pool \"{j.SourcePool}\"",
        _ when j.Vms.Count == 0 && j.Smart is null
            || j.Vms.Any(v => !Guid.TryParse(v, out _)) => "vms: one or more VM uuids, or a smart selection",
        _ when j.Smart?.Validate() is { } bad => $"smart: {bad}",
        _ when j.Smart is { } smart && smart.Pool != j.SourcePool =>
            $"smart: pool \"{smart.Pool}\" is not the job's source pool \"{j.SourcePool}\"",
        _ when j.Targets.Count == 0 => "targets: one or more target SRs",
        _ when j.Targets.FirstOrDefault(t => !Pools.ContainsKey(t.Pool)) is { } t => $"targets: unknown pool \"{t.Pool}\"",
        _ when j.Targets.FirstOrDefault(t => !Guid.TryParse(t.SrUuid, out _)) is { } t => $"targets: \"{t.SrUuid}\" is not an SR uuid",
        _ when j.Settings.Validate() is { } bad => $"settings: {bad}",
        _ when RpoRules.Invalid(j.Rpo) is { } bad => $"rpo: {bad}",
        _ when j.Schedules.Count == 0 => "schedules: a job has at least one schedule",
        _ when j.Schedules.Select(s => s.Id).Distinct().Count() != j.Schedules.Count => "schedules: ids must differ",
        _ when j.Schedules.Select(ScheduleInvalid).FirstOrDefault(e => e is not null) is { } bad => bad,
        _ => null,
    };

    private static string? ScheduleInvalid(JobSchedule s) => s switch
    {
        { Id.Length: 0 } => "schedule: an id is required",
        _ when !IdValid(s.Id) => $"schedule: id \"{s.Id}\": letters, digits and '-' only, at most 64",
        { CopyRetention: < 1 } => "schedule: copyRetention must be at least 1",
        { FullInterval: < 0 } => "schedule: fullInterval must be 0 (never) or more",
        _ when RpoRules.Invalid(s.Rpo) is { } bad => $"schedule: rpo: {bad}",
        _ when s.Apply(new ReplicationSettings()).Validate() is { } bad => $"schedule: {bad}",
        _ => ScheduleRules.Validate(s) is { } bad ? $"schedule: {bad}" : null,
    };
}
