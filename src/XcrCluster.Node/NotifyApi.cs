using System.Globalization;
using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>Notification targets (webhooks, email): add, list (secrets and passwords never come back out), remove, test now,
/// and the notifier's delivery log.</summary>
public static class NotifyApi
{
    /// <summary>A target: <c>kind</c> webhook (url, secret) or email (smtp HOST[:PORT], tls, from, to, optional smtpUser and
    /// smtpPassword); <c>job</c> scopes it to one job; <c>events</c> (none: all); <c>failuresOnly</c>: run-ended only when
    /// not a success.</summary>
    public sealed record NotifyRequest(string? Kind, string? Url, string? Secret, string? Job, List<string>? Events, bool FailuresOnly,
        string? Smtp, string? Tls, string? From, List<string>? To, string? SmtpUser, string? SmtpPassword, string? Id = null);

    public static void Map(WebApplication app, ClusterKey key)
    {
        app.MapPost("/api/notify", async (NotifyRequest request, ActorRegistry registry) =>
        {
            var (target, bad) = Target(request, key);
            return target is null ? Results.BadRequest(new { error = bad })
                : Reply(await ControlAsync<IControlReply>(registry, new AddNotifyTarget(target)));
        });
        app.MapGet("/api/notify", async (ActorRegistry registry)
            => Results.Json((await ControlAsync<NotifyTargetList>(registry, new GetNotifyTargets())).Targets.Select(Body)));
        app.MapDelete("/api/notify/{id}", async (string id, ActorRegistry registry)
            => Reply(await ControlAsync<IControlReply>(registry, new RemoveNotifyTarget(id))));
        app.MapPost("/api/notify/{id}/test", async (string id, ActorRegistry registry) =>
        {
            var tested = await AskPartAsync<TestDelivered>(await registry.GetAsync<Notifier>(), new TestNotifyTarget(id), "the notifier");
            return tested switch
            {
                { Entry: { Status: "delivered" } e } => Results.Json(Entry(e)),
                { Entry: { } e } => Results.Json(new { error = $"delivery failed: {e.Error}", delivery = Entry(e) },
                    statusCode: StatusCodes.Status502BadGateway),
                _ => Results.NotFound(new { error = tested.Error }),
            };
        });
        app.MapGet("/api/notify/log", async (int? limit, ActorRegistry registry) =>
        {
            var notifier = await registry.GetAsync<Notifier>();
            var log = await AskPartAsync<DeliveryLog>(notifier, new GetDeliveryLog(limit ?? 100), "the notifier");
            return Results.Json(log.Entries.Select(Entry));
        });
    }

    /// <summary>The target a request describes (its secret and password sealed with the cluster key), or the field at fault.</summary>
    public static (NotifyTarget? Target, string? Error) Target(NotifyRequest r, ClusterKey key)
    {
        var events = r.Events ?? [];
        var target = new NotifyTarget(r.Id ?? "n-" + Guid.NewGuid().ToString("N")[..8], r.Kind ?? "", r.Job is { Length: > 0 } j ? j : null,
            events)
        {
            FailuresOnly = r.FailuresOnly, Added = DateTimeOffset.UtcNow,
        };
        switch (r.Kind)
        {
            case NotifyTarget.WebhookKind when string.IsNullOrEmpty(r.Secret):
                return (null, r.Url is null ? "url: required" : "secret: required (the receiver checks X-Xcr-Signature with it)");
            case NotifyTarget.WebhookKind:
                target = target with { Webhook = new WebhookTarget(r.Url ?? "", key.Encrypt(r.Secret)) };
                break;
            case NotifyTarget.EmailKind when r.Smtp is null || r.Smtp.Trim().Length == 0:
                return (null, "smtp: HOST or HOST:PORT is required");
            case NotifyTarget.EmailKind when r.SmtpPassword is { Length: > 0 } && r.SmtpUser is not { Length: > 0 }:
                return (null, "smtpUser: required with a password");
            case NotifyTarget.EmailKind:
                var smtp = Smtp(r.Smtp, r.Tls);
                target = target with
                {
                    Email = new EmailTarget(smtp.Host, smtp.Port, r.Tls ?? "auto", r.From ?? "", r.To ?? [])
                    {
                        User = r.SmtpUser is { Length: > 0 } user ? user : null,
                        EncryptedPassword = r.SmtpPassword is { Length: > 0 } password ? key.Encrypt(password) : null,
                    },
                };
                break;
        }

        return Notifiers.Invalid(target) is { } bad ? (null, bad) : (target, null);
    }

    /// <summary>HOST[:PORT]; without a port 465 for implicit TLS, else 587 (submission).</summary>
    private static (string Host, int Port) Smtp(string text, string? tls)
    {
        var colon = text.LastIndexOf(':');
        if (colon < 0 || text.EndsWith(']'))
        {
            return (text.Trim('[', ']'), tls == "tls" ? 465 : 587);
        }

        return int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? (text[..colon].Trim('[', ']'), port) : (text, 0);
    }

    private static object Body(NotifyTarget t) => new
    {
        id = t.Id, kind = t.Kind, job = t.JobId, events = t.Events.Count == 0 ? NotifyTarget.EventNames : t.Events,
        failuresOnly = t.FailuresOnly, url = t.Webhook?.Url, smtp = t.Email is { } m ? $"{m.Host}:{m.Port}" : null, tls = t.Email?.Tls,
        from = t.Email?.From, to = t.Email?.To, smtpUser = t.Email?.User, added = t.Added,
    };

    private static object Entry(DeliveryEntry e) => new
    {
        delivery = e.DeliveryId, target = e.TargetId, @event = e.Event, attempt = e.Attempt, status = e.Status, code = e.HttpStatus,
        error = e.Error, at = e.At,
    };
}
