using System.Collections.Immutable;
using System.Net.Mail;
using XcrCluster.Domain.Notify;

namespace XcrCluster.Domain.Control;

/// <summary>Where notices go: a webhook (URL, HMAC secret) or an email (SMTP), for the whole cluster or one job, for the
/// events named (none named: all). Secrets and SMTP passwords are held encrypted with the cluster key and never returned.</summary>
public sealed record NotifyTarget(string Id, string Kind, string? JobId, IReadOnlyList<string> Events)
{
    public const string WebhookKind = "webhook";
    public const string EmailKind = "email";

    /// <summary>Every event a target can ask for (<see cref="INotice.Kind"/>).</summary>
    public static readonly IReadOnlyList<string> EventNames = ["run-ended", "rpo-violated", "rpo-recovered", "node-down", "node-up"];

    /// <summary>run-ended only when the run was not a success (partial or failure).</summary>
    public bool FailuresOnly { get; init; }

    public WebhookTarget? Webhook { get; init; }

    public EmailTarget? Email { get; init; }

    public DateTimeOffset Added { get; init; }

    /// <summary>Whether this target is told about the notice: its event asked for, its job (a job-scoped target hears
    /// nothing about nodes), and not a successful run when only failures are asked for. A test notice always.</summary>
    public bool Wants(INotice notice) => notice switch
    {
        TestNotice => true,
        _ when Events.Count > 0 && !Events.Contains(notice.Kind) => false,
        RunEndedNotice r => (JobId is null || JobId == r.JobId) && !(FailuresOnly && r.Outcome == "success"),
        RpoViolated v => JobId is null || JobId == v.JobId,
        RpoRecovered v => JobId is null || JobId == v.JobId,
        _ => JobId is null,
    };
}

/// <summary>A webhook: JSON POSTed to <paramref name="Url"/>, signed with HMAC-SHA256 of the body under the secret.</summary>
public sealed record WebhookTarget(string Url, string EncryptedSecret);

/// <summary>An SMTP relay and the addresses; <paramref name="Tls"/>: none, starttls, tls (implicit) or auto (STARTTLS when
/// offered).</summary>
public sealed record EmailTarget(string Host, int Port, string Tls, string From, IReadOnlyList<string> To)
{
    public static readonly IReadOnlyList<string> TlsModes = ["auto", "none", "starttls", "tls"];

    public string? User { get; init; }

    public string? EncryptedPassword { get; init; }
}

/// <summary>A notice sent on demand (`xcr notify test`) to check that a target is reachable.</summary>
public sealed record TestNotice(string TargetId, DateTimeOffset At) : INotice
{
    public string Kind => "test";
}

public sealed record AddNotifyTarget(NotifyTarget Target) : IControlCommand;

public sealed record RemoveNotifyTarget(string Id) : IControlCommand;

public sealed record GetNotifyTargets : IControlQuery;

public sealed record NotifyTargetList(IReadOnlyList<NotifyTarget> Targets) : IControlReply;

public sealed record NotifyTargetAdded(NotifyTarget Target) : IControlEvent;

public sealed record NotifyTargetRemoved(string Id) : IControlEvent;

/// <summary>The control state's part about notification targets: validation naming the field, commands and events. Pure.</summary>
public static class Notifiers
{
    /// <summary>How many targets the books keep (each notice is sent to each: a bound on the work of one notice).</summary>
    public const int MaxTargets = 100;

    public static (IControlEvent? Event, IControlReply Reply) Process(ControlState state, IControlRequest request) => request switch
    {
        AddNotifyTarget a when Invalid(a.Target) is { } bad => (null, new Refused(bad)),
        AddNotifyTarget a when a.Target.JobId is { } job && !state.Jobs.ContainsKey(job) => (null, new Refused($"job: no job {job}")),
        AddNotifyTarget a when state.NotifyTargets.ContainsKey(a.Target.Id) => (null, new Conflict($"id: target {a.Target.Id} exists")),
        AddNotifyTarget when state.NotifyTargets.Count >= MaxTargets => (null, new Refused($"at most {MaxTargets} notification targets")),
        AddNotifyTarget a => (new NotifyTargetAdded(a.Target), new Done(a.Target.Id)),
        RemoveNotifyTarget r when !state.NotifyTargets.ContainsKey(r.Id) => (null, new NotFound($"no notification target {r.Id}")),
        RemoveNotifyTarget r => (new NotifyTargetRemoved(r.Id), new Done(r.Id)),
        _ => (null, new NotifyTargetList([.. state.NotifyTargets.Values.OrderBy(t => t.Id, StringComparer.Ordinal)])),
    };

    public static ImmutableDictionary<string, NotifyTarget> Apply(ImmutableDictionary<string, NotifyTarget> targets, IControlEvent e)
        => e switch
        {
            NotifyTargetAdded a => targets.SetItem(a.Target.Id, a.Target),
            NotifyTargetRemoved r => targets.Remove(r.Id),
            _ => targets,
        };

    /// <summary>What is wrong with a target, naming the field, or null (secrets are checked before they are encrypted).</summary>
    public static string? Invalid(NotifyTarget t) => t switch
    {
        _ when !ControlState.IdValid(t.Id) => "id: letters, digits and '-' only, at most 64",
        _ when t.Events.FirstOrDefault(e => !EventNamesContain(e)) is { } bad
            => $"events: \"{bad}\" is not one of {string.Join(", ", NotifyTarget.EventNames)}",
        { Kind: NotifyTarget.WebhookKind, Webhook: null } => "url: required",
        { Kind: NotifyTarget.WebhookKind, Webhook: { } w } when !Uri.TryCreate(w.Url, UriKind.Absolute, out var u)
            || u.Scheme is not ("http" or "https") => "url: an http(s) URL is required",
        { Kind: NotifyTarget.WebhookKind, Webhook.EncryptedSecret.Length: 0 } => "secret: required",
        { Kind: NotifyTarget.EmailKind, Email: null } => "smtp: required",
        { Kind: NotifyTarget.EmailKind, Email: { } m } => EmailInvalid(m),
        { Kind: NotifyTarget.WebhookKind or NotifyTarget.EmailKind } => null,
        _ => $"kind: \"{t.Kind}\" is not webhook or email",
    };

    private static bool EventNamesContain(string name) => NotifyTarget.EventNames.Contains(name);

    private static string? EmailInvalid(EmailTarget m) => m switch
    {
        _ when string.IsNullOrWhiteSpace(m.Host) || Uri.CheckHostName(m.Host) == UriHostNameType.Unknown => "smtp: a host name is required",
        { Port: < 1 or > 65535 } => "smtp: port 1 to 65535",
        _ when !EmailTarget.TlsModes.Contains(m.Tls) => $"tls: one of {string.Join(", ", EmailTarget.TlsModes)}",
        _ when !MailAddress.TryCreate(m.From, out _) => "from: an email address is required",
        { To.Count: 0 } => "to: one or more email addresses",
        _ when m.To.FirstOrDefault(a => !MailAddress.TryCreate(a, out _)) is { } bad => $"to: \"{bad}\" is not an email address",
        { User: { Length: > 0 }, EncryptedPassword: null or "" } => "smtpPassword: required with a user",
        _ => null,
    };
}
