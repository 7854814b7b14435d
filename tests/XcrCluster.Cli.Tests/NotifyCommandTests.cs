using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr notify` against a real xcr-node process and a real HTTP receiver: targets added (bad input refused naming
/// the field), listed without their secret, tested, logged and removed; a run of a job whose VM fails is reported
/// run-ended, partial, with each VM's result, signed.</summary>
public sealed class NotifyCommandTests : NodeAndPools
{
    private const string Secret = "hook-s3cret-71";

    [Fact]
    public async Task Targets_are_added_listed_tested_logged_and_removed_and_bad_input_is_refused_naming_the_field()
    {
        await using var hook = await WebhookReceiver.StartAsync();
        var bad = await XcrAsync("", "notify", "add", "webhook", hook.Url.ToString(), "--secret", Secret, "--events", "run-ended,bogus");
        Assert.Equal(1, bad.Code);
        Assert.Contains("events: \"bogus\" is not one of run-ended, rpo-violated, rpo-recovered, node-down, node-up", bad.Stderr);
        bad = await XcrAsync("", "notify", "add", "email", "--smtp", "127.0.0.1:2525", "--from", "not-an-address", "--to",
            "ops@example.org");
        Assert.Contains("from: an email address is required", bad.Stderr);
        bad = await XcrAsync("", "notify", "add", "webhook", "ftp://example.org/x", "--secret", Secret);
        Assert.Contains("url: an http(s) URL is required", bad.Stderr);
        bad = await XcrAsync("", "notify", "add", "webhook", hook.Url.ToString(), "--secret", Secret, "--job", "no-such-job");
        Assert.Contains("job: no job no-such-job", bad.Stderr);

        var added = await OkAsync("notify", "add", "webhook", hook.Url.ToString(), "--secret", Secret, "--events", "run-ended,node-down",
            "--failures-only");
        var id = added.Trim()["target ".Length..^" added".Length];
        await OkAsync("notify", "add", "email", "--smtp", "mail.example.org", "--from", "xcr@example.org", "--to", "ops@example.org",
            "--id", "ops-mail");
        var list = await OkAsync("notify", "list");
        Assert.Contains($"{id} | webhook | {hook.Url} | all jobs | run-ended,node-down (failures only)", list);
        Assert.Contains("ops-mail | email | mail.example.org:587 to ops@example.org | all jobs | run-ended,rpo-violated", list);
        var json = await OkAsync("notify", "list", "--json");
        Assert.DoesNotContain(Secret, json);
        Assert.Equal([id, "ops-mail"], JsonNode.Parse(json)!.AsArray().Select(t => (string)t!["id"]!));

        Assert.Contains($"test notice delivered to {id} (200)", await OkAsync("notify", "test", id));
        var test = Assert.Single(hook.Received);
        Assert.Equal("test", test.Event);
        Assert.True(test.SignedWith(Secret));
        var log = await OkAsync("notify", "log");
        Assert.Contains($"| {id} | test | attempt 1 | delivered 200", log);

        Assert.Contains($"target {id} removed", await OkAsync("notify", "remove", id));
        var gone = await XcrAsync("", "notify", "test", id);
        Assert.Equal(1, gone.Code);
        Assert.Contains($"no notification target {id}", gone.Stderr);
        Assert.DoesNotContain(id, await OkAsync("notify", "list"));
    }

    [Fact]
    public async Task A_run_with_a_failing_vm_is_reported_partial_with_each_vms_result()
    {
        await using var hook = await WebhookReceiver.StartAsync();
        await AddPoolsAsync();
        string[] vms = [await Alpha.UuidAsync("VM", "tiny01"), await Alpha.UuidAsync("VM", "db01")];
        var created = await OkAsync("job", "create", "nightly", "--pool", "alpha", "--vm", vms[0], "--vm", vms[1], "--sr",
            $"beta:{await Beta.UuidAsync("SR", "Local storage")}");
        var jobId = created.Split('\n')[0]["job ".Length..].Trim();
        await OkAsync("notify", "add", "webhook", hook.Url.ToString(), "--secret", Secret, "--job", jobId, "--events", "run-ended");
        Alpha.Pool.Faults.FailCall("VM.snapshot"); // one VM's snapshot fails: the run is partial
        var runId = (await XcrAsync("", "job", "run", jobId)).Stdout.Split('\n')[0]["run ".Length..].Trim();

        await Poll.UntilAsync(() => !hook.Received.IsEmpty, "run-ended", TimeSpan.FromMinutes(3));
        var delivery = Assert.Single(hook.Received);
        Assert.True(delivery.SignedWith(Secret));
        var body = delivery.Json;
        Assert.Equal(("run-ended", jobId, "nightly", runId, "partial"), ((string)body["event"]!, (string)body["jobId"]!,
            (string)body["jobName"]!, (string)body["runId"]!, (string)body["outcome"]!));
        var results = body["vms"]!.AsArray().ToDictionary(v => (string)v!["vm"]!);
        Assert.Equal(vms.Order(), results.Keys.Order());
        Assert.Equal(["failure", "success"], results.Values.Select(v => (string)v!["status"]!).Order());
        Assert.Equal(["db01", "tiny01"], results.Values.Select(v => (string)v!["vmName"]!).Order());
        var failed = results.Values.Single(v => (string)v!["status"]! == "failure")!;
        Assert.Contains("INTERNAL_ERROR", (string)failed["error"]!);
        Assert.True((long)results.Values.Single(v => (string)v!["status"]! == "success")!["bytes"]! > 0);
        using var http = Http(); // the receiver kept the POST before it answered: the attempt is logged once the answer is in
        await Poll.UntilAsync(async () => (await http.GetStringAsync("/api/notify/log")).Contains("delivered", StringComparison.Ordinal),
            "the delivery in the log", TimeSpan.FromSeconds(30));
    }
}
