using System.Collections.Concurrent;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Notify;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>The notifier singleton against a real HTTP receiver and a real SMTP server on loopback: payloads, signatures,
/// retries and the delivery log; run-ended made from the VMs' entities (from their ends on the run-progress topic, or by
/// the sweep when those were missed); node up and down from a second member.</summary>
public sealed partial class NotifierTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Secret = "s3cret-hook";
    private static readonly ClusterKey Key = new(RandomNumberGenerator.GetBytes(32));
    private static readonly NotifierOptions Fast = new()
    {
        FirstRetry = TimeSpan.FromMilliseconds(100), MaxRetry = TimeSpan.FromMilliseconds(400), AttemptTimeout = TimeSpan.FromSeconds(10),
        Sweep = TimeSpan.FromHours(1), RefusedAfter = TimeSpan.FromHours(1),
    };

    private readonly ConcurrentDictionary<string, ReplicatedVmState> states = new();
    private readonly ConcurrentDictionary<string, string> names = new();
    private readonly IActorRef control;
    private readonly IActorRef region;
    private readonly IActorRef agents;
    private WebhookReceiver hook = null!;

    public NotifierTests()
        : base(SingleNodeCluster.Config)
    {
        Cluster.Get(Sys).Join(Cluster.Get(Sys).SelfAddress);
        control = Sys.ActorOf(ControlPlaneActor.Props());
        region = Sys.ActorOf(Props.Create(() => new Entities(states)));
        agents = Sys.ActorOf(Props.Create(() => new Inventory(names)));
    }

    public async Task InitializeAsync()
    {
        hook = await WebhookReceiver.StartAsync();
        AwaitCondition(() => Cluster.Get(Sys).SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync() => await hook.DisposeAsync();

    [Fact]
    public async Task A_webhook_is_signed_retried_after_a_500_and_every_attempt_is_logged()
    {
        await AddAsync(Webhook("hook", "rpo-violated"));
        var notifier = await StartAsync(Fast);
        hook.Answer(500);
        NoticeTopic.Publish(Sys, new RpoViolated("job-1", "nightly", "vm-1", "web01", 95, 30, DateTimeOffset.UtcNow));
        await Poll.UntilAsync(() => hook.Received.Count >= 2, "a retry after the 500", TimeSpan.FromSeconds(30));

        var (first, second) = (hook.Received.ElementAt(0), hook.Received.ElementAt(1));
        Assert.Equal((500, 200), (first.Answered, second.Answered));
        Assert.Equal(first.DeliveryId, second.DeliveryId);
        Assert.All(hook.Received, d => Assert.True(d.SignedWith(Secret), $"signature {d.Signature}"));
        Assert.False(second.SignedWith("another secret"));
        var body = second.Json;
        Assert.Equal(("rpo-violated", "rpo-violated", second.DeliveryId),
            (second.Event, (string)body["event"]!, (string)body["delivery"]!));
        Assert.Equal(("job-1", "vm-1", "web01", 95.0, 30.0), ((string)body["jobId"]!, (string)body["vm"]!, (string)body["vmName"]!,
            (double)body["lagSeconds"]!, (double)body["targetSeconds"]!));
        Assert.Equal((Sys.Name, Cluster.Get(Sys).SelfAddress.ToString()), ((string)body["cluster"]!, (string)body["node"]!));
        Assert.NotNull(body["at"]);

        await AwaitAssertAsync(async () =>
        {
            var log = (await notifier.Ask<DeliveryLog>(new GetDeliveryLog(10))).Entries;
            Assert.Equal([("delivered", 2, (int?)200), ("retrying", 1, 500)], log.Select(e => (e.Status, e.Attempt, e.HttpStatus)));
            Assert.All(log, e => Assert.Equal(("hook", "rpo-violated", first.DeliveryId), (e.TargetId, e.Event, e.DeliveryId)));
        });
    }

    [Fact]
    public async Task A_webhook_refusing_with_a_4xx_is_not_retried_and_a_test_notice_reports_its_result()
    {
        await AddAsync(Webhook("hook"));
        var notifier = await StartAsync(Fast);
        hook.Answer(410);
        var tested = await notifier.Ask<TestDelivered>(new TestNotifyTarget("hook"), TimeSpan.FromSeconds(30));
        Assert.Equal(("failed", 410, 1), (tested.Entry!.Status, tested.Entry.HttpStatus, tested.Entry.Attempt));
        Assert.Single(hook.Received);
        tested = await notifier.Ask<TestDelivered>(new TestNotifyTarget("hook"), TimeSpan.FromSeconds(30));
        Assert.Equal(("delivered", 200), (tested.Entry!.Status, tested.Entry.HttpStatus));
        Assert.Equal("test", hook.Received.Last().Event);
        Assert.Equal("no notification target nope",
            (await notifier.Ask<TestDelivered>(new TestNotifyTarget("nope"), TimeSpan.FromSeconds(30))).Error);
    }

    [Fact]
    public async Task An_email_with_a_readable_summary_reaches_a_real_smtp_server_after_a_login()
    {
        await using var smtp = await SmtpReceiver.StartAsync("xcr", "smtp-Pa55");
        await AddAsync(new NotifyTarget("mail", NotifyTarget.EmailKind, null, [])
        {
            Email = new EmailTarget("127.0.0.1", smtp.Port, "none", "xcr@example.org", ["ops@example.org", "oncall@example.org"])
            {
                User = "xcr", EncryptedPassword = Key.Encrypt("smtp-Pa55"),
            },
        });
        var notifier = await StartAsync(Fast);
        var now = DateTimeOffset.UtcNow;
        notifier.Tell(new RunEndedNotice("job-1", "nightly", "run-1", "manual", "partial", now.AddMinutes(-3),
        [
            new VmOutcome("vm-1", "web01", "success", null, 3L << 20), new VmOutcome("vm-2", "db01", "failure", "VM.snapshot: boom", 0),
            new VmOutcome("vm-3", "vm-3", "success", null, 4096),
        ], now));
        await Poll.UntilAsync(() => !smtp.Messages.IsEmpty, "the email", TimeSpan.FromSeconds(30));

        var mail = Assert.Single(smtp.Messages);
        Assert.Equal(("xcr", "smtp-Pa55"), Assert.Single(smtp.Logins));
        Assert.Equal("[xcr] run of job nightly: partial (1 of 3 VMs failed)", mail.Subject);
        Assert.Equal(["ops@example.org", "oncall@example.org"], mail.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("run-ended", mail.Headers["X-Xcr-Event"]);
        var text = mail.TextBody;
        Assert.Contains("Job:     nightly (job-1)", text);
        Assert.Contains("success     web01 (vm-1), 3 MiB sent", text);
        Assert.Contains("failure     db01 (vm-2), 0 KiB sent: VM.snapshot: boom", text);
        Assert.Contains("success     vm-3, 4 KiB sent", text);
        await AwaitAssertAsync(async () => Assert.Equal(("delivered", 250),
            (await notifier.Ask<DeliveryLog>(new GetDeliveryLog(10))).Entries.Select(e => (e.Status, e.HttpStatus ?? 0)).Single()));
    }

    [Fact]
    public async Task A_run_ended_is_made_once_every_vm_of_the_run_said_it_ended()
    {
        await AddAsync(Webhook("hook", "run-ended"));
        await StartAsync(Fast);
        var (run, vms) = await RunAsync();
        var mediator = DistributedPubSub.Get(Sys).Mediator;
        await SubscribedAsync(RunProgressTopic.Name);
        foreach (var vm in vms)
        {
            mediator.Tell(new Publish(RunProgressTopic.Name, new RunEnded(run.RunId, vm, "whatever")));
        }

        await AssertRunEndedAsync(run, vms);
    }

    [Fact]
    public async Task A_run_whose_vm_ends_were_missed_is_reported_by_the_sweep()
    {
        await AddAsync(Webhook("hook", "run-ended"));
        var notifier = await StartAsync(Fast with { Sweep = TimeSpan.FromMilliseconds(300) });
        var (run, vms) = await RunAsync();
        await AssertRunEndedAsync(run, vms);

        // Another notifier (as after a move) has the run as reported in its ledger, and the log: a second run only is reported.
        Watch(notifier);
        Sys.Stop(notifier);
        ExpectTerminated(notifier);
        notifier = await StartAsync(Fast with { Sweep = TimeSpan.FromMilliseconds(300) });
        var (second, _) = await RunAsync("run-2");
        await Poll.UntilAsync(() => hook.Received.Count >= 2, "the second run's run-ended", TimeSpan.FromSeconds(30));
        Assert.Equal([run.RunId, second.RunId], hook.Received.Select(d => (string)d.Json["runId"]!));
        var log = (await notifier.Ask<DeliveryLog>(new GetDeliveryLog(10))).Entries;
        Assert.Equal([("run-ended", "delivered"), ("run-ended", "delivered")], log.Select(e => (e.Event, e.Status)));
    }

    private async Task AssertRunEndedAsync(RunLaunch run, string[] vms)
    {
        await Poll.UntilAsync(() => !hook.Received.IsEmpty, "run-ended", TimeSpan.FromSeconds(30));
        var body = hook.Received.First().Json;
        Assert.Equal(("run-ended", "nightly", run.RunId, "partial"),
            ((string)body["event"]!, (string)body["jobName"]!, (string)body["runId"]!, (string)body["outcome"]!));
        var results = body["vms"]!.AsArray().Select(v => ((string)v!["vm"]!, (string)v["vmName"]!, (string)v["status"]!,
            (string?)v["error"], (long)v["bytes"]!));
        Assert.Equal([(vms[0], "web01", "success", null, 4096L), (vms[1], "db01", "failure", "boom", 0L)], results);
    }

    /// <summary>A job of two VMs and a run of it recorded with the control plane, its VMs' entities showing it ended: the first
    /// VM a success, the second a failure.</summary>
    private async Task<(RunLaunch Run, string[] Vms)> RunAsync(string runId = "run-1")
    {
        string[] vms = [Guid.NewGuid().ToString(), Guid.NewGuid().ToString()];
        await control.Ask<IControlReply>(new RegisterPool(new PoolRegistration("alpha", "https://192.0.2.10", "root", "x", null, true),
            Replace: true));
        await control.Ask<Done>(new DefineJob(new JobDefinition(runId + "-job", "nightly", "alpha", vms,
            [new TargetRef("alpha", Guid.NewGuid().ToString())], new ReplicationSettings())
        {
            Schedules = [new JobSchedule(runId + "-s")],
        }));
        var run = new RunLaunch(runId, runId + "-job", runId + "-s", vms, "manual", DateTimeOffset.UtcNow);
        await control.Ask<Done>(new RecordRun(run));
        var now = DateTimeOffset.UtcNow;
        foreach (var (vm, result) in vms.Zip([Requests.Success(run.RunId),
            Requests.Success(run.RunId) with { Status = RunStatus.Failed, Error = "boom", Targets = [] }]))
        {
            states[vm] = new ReplicatedVmState { VmUuid = vm }.Apply(new RunStarted(vm, Requests.For(vm, run.JobId, run.RunId), now))
                .Apply(new RunFinished(vm, run.JobId, result, now));
        }

        (names[vms[0]], names[vms[1]]) = ("web01", "db01");
        return (run, vms);
    }

    private async Task<IActorRef> StartAsync(NotifierOptions options)
    {
        var notifier = Sys.ActorOf(NotifierActor.Props(() => Task.FromResult(control), () => Task.FromResult(region),
            () => Task.FromResult(agents), Key, options));
        await SubscribedAsync(NoticeTopic.Name);
        return notifier;
    }

    /// <summary>The topic exists once the notifier subscribed (no one else subscribes in a test's system).</summary>
    private async Task SubscribedAsync(string topic) => await AwaitAssertAsync(async ()
        => Assert.Contains(topic, (await DistributedPubSub.Get(Sys).Mediator.Ask<CurrentTopics>(GetTopics.Instance)).Topics));

    private NotifyTarget Webhook(string id, params string[] events) => new(id, NotifyTarget.WebhookKind, null, events)
    {
        Webhook = new WebhookTarget(hook.Url.ToString(), Key.Encrypt(Secret)),
    };

    private async Task AddAsync(NotifyTarget target) => Assert.IsType<Done>(await control.Ask<IControlReply>(new AddNotifyTarget(target)));

    /// <summary>The VMs' entities as the test set them.</summary>
    private sealed class Entities : ReceiveActor
    {
        public Entities(ConcurrentDictionary<string, ReplicatedVmState> states)
            => Receive<GetVmStatus>(g => Sender.Tell(states.GetValueOrDefault(g.VmUuid) ?? new ReplicatedVmState { VmUuid = g.VmUuid }));
    }

    /// <summary>The source pool's inventory: the VMs' names.</summary>
    private sealed class Inventory : ReceiveActor
    {
        public Inventory(ConcurrentDictionary<string, string> names) => Receive<GetInventory>(g => Sender.Tell(new PoolInventory(g.Pool, [],
            [.. names.Select(n => new VmInfo(n.Key, n.Value, "Running", [], [], false, null, false))], DateTimeOffset.UtcNow)));
    }
}
