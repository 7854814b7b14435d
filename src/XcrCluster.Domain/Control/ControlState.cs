using System.Collections.Immutable;

namespace XcrCluster.Domain.Control;

/// <summary>Registered pools and defined jobs, with validation that names the bad field. Pure.</summary>
public sealed record ControlState
{
    public ImmutableDictionary<string, PoolRegistration> Pools { get; init; } = ImmutableDictionary<string, PoolRegistration>.Empty;

    public ImmutableDictionary<string, JobDefinition> Jobs { get; init; } = ImmutableDictionary<string, JobDefinition>.Empty;

    public (IControlMessage? Event, IControlMessage Reply) Process(IControlMessage command) => command switch
    {
        RegisterPool { Pool: var p } when string.IsNullOrWhiteSpace(p.Name) || p.Name.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-') => (null, new Refused("name: letters, digits and '-' only")),
        RegisterPool { Pool: var p } when !Uri.TryCreate(p.Url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") => (null, new Refused("url: an http(s) XAPI URL is required")),
        RegisterPool { Pool: var p } when p.User.Length == 0 => (null, new Refused("username: required")),
        RegisterPool r => (new PoolRegistered(r.Pool), new Done(r.Pool.Name)),
        DefineJob { Job: var j } when string.IsNullOrWhiteSpace(j.Name) => (null, new Refused("name: required")),
        DefineJob { Job: var j } when !Pools.ContainsKey(j.SourcePool) => (null, new Refused($"sourcePool: unknown pool \"{j.SourcePool}\"")),
        DefineJob { Job: var j } when j.Vms.Count == 0 || j.Vms.Any(v => !Guid.TryParse(v, out _)) => (null, new Refused("vms: one or more VM uuids")),
        DefineJob { Job: var j } when j.Targets.Count == 0 => (null, new Refused("targets: one or more target SRs")),
        DefineJob { Job: var j } when j.Targets.FirstOrDefault(t => !Pools.ContainsKey(t.Pool)) is { } t => (null, new Refused($"targets: unknown pool \"{t.Pool}\"")),
        DefineJob { Job: var j } when j.Settings.Validate() is { } bad => (null, new Refused($"settings: {bad}")),
        DefineJob { Job.Schedule: { } s } when ScheduleRules.Validate(s) is { } bad => (null, new Refused($"schedule: {bad}")),
        DefineJob d => (new JobDefined(d.Job), new Done(d.Job.Id)),
        EnableJob e when !Jobs.ContainsKey(e.Id) => (null, new Refused($"no job {e.Id}")),
        EnableJob e when Jobs[e.Id].Schedule is null => (null, new Refused($"job {e.Id} has no schedule: it runs by hand only")),
        EnableJob e => (new JobEnabled(e.Id, e.Enabled), new Done(e.Id)),
        GetPools => (null, new PoolList([.. Pools.Values.OrderBy(p => p.Name, StringComparer.Ordinal)])),
        GetJob g => (null, new JobReply(Jobs.GetValueOrDefault(g.Id))),
        GetJobs => (null, new JobList([.. Jobs.Values.OrderBy(j => j.Id, StringComparer.Ordinal)])),
        _ => (null, new Refused($"unknown command {command.GetType().Name}")),
    };

    public ControlState Apply(IControlMessage e) => e switch
    {
        PoolRegistered r => this with { Pools = Pools.SetItem(r.Pool.Name, r.Pool) },
        JobDefined d => this with { Jobs = Jobs.SetItem(d.Job.Id, d.Job) },
        JobEnabled enabled when Jobs.TryGetValue(enabled.Id, out var job) && job.Schedule is { } schedule
            => this with { Jobs = Jobs.SetItem(enabled.Id, job with { Schedule = schedule with { Enabled = enabled.Enabled } }) },
        _ => this,
    };
}
