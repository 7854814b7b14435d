using System.CommandLine;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>`xcr notify`: where notices go (webhooks, email), a test sent now, and the delivery log.</summary>
public static class NotifyCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        var job = new Option<string?>("--job") { Description = "only this job's runs and RPO (default: every job, and nodes)" };
        var events = new Option<string?>("--events")
        {
            Description = "comma-separated: run-ended, rpo-violated, rpo-recovered, node-down, node-up (default: all)",
        };
        var failuresOnly = new Option<bool>("--failures-only") { Description = "run-ended only when the run was not a success" };
        var id = new Option<string?>("--id") { Description = "the target's id (default: generated)" };

        var url = new Argument<string>("url");
        var secret = new Option<string>("--secret") { Description = "the HMAC-SHA256 key of X-Xcr-Signature", Required = true };
        var webhook = cli.Api("webhook", "POST signed JSON to a URL", async (r, client) => await AddAsync(cli, r, client, new
        {
            kind = "webhook", url = r.GetValue(url), secret = r.GetValue(secret), id = r.GetValue(id), job = r.GetValue(job),
            events = List(r.GetValue(events)), failuresOnly = r.GetValue(failuresOnly),
        }), url, secret, job, events, failuresOnly, id);

        var smtp = new Option<string>("--smtp") { Description = "the SMTP relay, HOST[:PORT] (default port 587, 465 with --tls tls)",
            Required = true };
        var from = new Option<string>("--from") { Required = true };
        var to = new Option<string[]>("--to") { Description = "a recipient (repeat for more)", Required = true,
            AllowMultipleArgumentsPerToken = true };
        var tls = new Option<string>("--tls")
        {
            Description = "auto (STARTTLS when offered), starttls, tls (implicit) or none", DefaultValueFactory = _ => "auto",
        };
        var user = new Option<string?>("--smtp-user");
        var passwordFile = new Option<string?>("--smtp-password-file") { Description = "a file holding the SMTP password" };
        var email = cli.Api("email", "send a plain-text summary by SMTP", async (r, client) =>
        {
            var password = r.GetValue(passwordFile) is { } file ? (await File.ReadAllTextAsync(file)).Trim() : null;
            return await AddAsync(cli, r, client, new
            {
                kind = "email", smtp = r.GetValue(smtp), tls = r.GetValue(tls), from = r.GetValue(from), to = r.GetValue(to),
                smtpUser = r.GetValue(user), smtpPassword = password, id = r.GetValue(id), job = r.GetValue(job),
                events = List(r.GetValue(events)), failuresOnly = r.GetValue(failuresOnly),
            });
        }, smtp, from, to, tls, user, passwordFile, job, events, failuresOnly, id);

        var list = cli.Api("list", "notification targets", async (r, client) => await cli.Print(r, await client.GetAsync("/api/notify"),
            d => d.AsArray().Select(t => $"{t!["id"]} | {t["kind"]} | {Where(t)} | {t["job"]?.ToString() ?? "all jobs"} | "
                + string.Join(",", t["events"]!.AsArray().Select(e => e!.ToString()))
                + (t["failuresOnly"]!.GetValue<bool>() ? " (failures only)" : ""))
                .Append($"Count: {d.AsArray().Count} targets")));
        var removeId = new Argument<string>("id");
        var remove = cli.Api("remove", "remove a notification target", async (r, client) => await cli.Print(r,
            await client.DeleteAsync($"/api/notify/{CliContext.Segment(r.GetValue(removeId))}"), d => [$"target {d["id"]} removed"]),
            removeId);
        var testId = new Argument<string>("id");
        var test = cli.Api("test", "send a test notice to a target now", async (r, client) => await cli.Print(r,
            await client.PostAsync($"/api/notify/{CliContext.Segment(r.GetValue(testId))}/test", new { }),
            d => [$"test notice delivered to {d["target"]}{(d["code"] is { } code ? $" ({code})" : "")}"]), testId);
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 50 };
        var log = cli.Api("log", "the notifier's deliveries, newest first", async (r, client) => await cli.Print(r,
            await client.GetAsync($"/api/notify/log?limit={r.GetValue(limit)}"),
            d => d.AsArray().Select(e => $"{e!["at"]} | {e["target"]} | {e["event"]} | attempt {e["attempt"]} | {e["status"]}"
                + (e["code"] is { } code ? $" {code}" : "") + (e["error"] is { } error ? $" | {error}" : ""))), limit);
        yield return new Command("notify", "notifications: webhooks and email")
        {
            new Command("add", "add a notification target") { webhook, email }, list, remove, test, log,
        };
    }

    private static async Task<int> AddAsync(CliContext cli, ParseResult r, NodeClient client, object body)
        => await cli.Print(r, await client.PostAsync("/api/notify", body), d => [$"target {d["id"]} added"]);

    private static string[]? List(string? text) => text?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Where(JsonNode t) => t["url"]?.ToString() ?? $"{t["smtp"]} to {string.Join(",", t["to"]!.AsArray())}";
}
