using Akka.Serialization;
using XcrCluster.Domain.Control;

namespace XcrCluster.Actors.Tests;

/// <summary>The notification targets the control plane persists and the notifier's messages survive the serializer under
/// their own manifests (secrets stay the ciphertext they were).</summary>
public sealed class NotifySerializerTests() : Akka.TestKit.Xunit2.TestKit(SerializerTests.Bound)
{
    private static readonly NotifyTarget Hook = new("hook-1", NotifyTarget.WebhookKind, "job-1", ["run-ended"])
    {
        FailuresOnly = true, Webhook = new WebhookTarget("https://hooks.example/xcr", "c2VhbGVk"), Added = DateTimeOffset.UnixEpoch,
    };

    private static readonly NotifyTarget Mail = new("mail-1", NotifyTarget.EmailKind, null, [])
    {
        Email = new EmailTarget("smtp.example", 587, "starttls", "xcr@example.org", ["ops@example.org"])
        {
            User = "xcr", EncryptedPassword = "cGFzcw==",
        },
    };

    private static readonly DeliveryEntry Entry = new("d-1", "hook-1", "run-ended", 2, "delivered", 200, null, DateTimeOffset.UnixEpoch);

    public static TheoryData<object> Messages() =>
    [
        new AddNotifyTarget(Hook),
        new AddNotifyTarget(Mail),
        new RemoveNotifyTarget("hook-1"),
        new GetNotifyTargets(),
        new NotifyTargetList([Hook, Mail]),
        new NotifyTargetAdded(Mail),
        new NotifyTargetRemoved("mail-1"),
        new ControlState().Apply(new NotifyTargetAdded(Hook)),
        new ControlRequest("req-1", new AddNotifyTarget(Hook)),
        new ControlApplied("req-1", new NotifyTargetAdded(Hook), new Done("hook-1")),
        new TestNotice("hook-1", DateTimeOffset.UnixEpoch),
        new TestNotifyTarget("hook-1"),
        new TestDelivered(Entry, null),
        new TestDelivered(null, "no notification target x"),
        new GetDeliveryLog(10),
        new DeliveryLog([Entry, Entry with { Attempt = 1, Status = "retrying", HttpStatus = 500, Error = "HTTP 500" }]),
        new NotifyLedgerStarted(DateTimeOffset.UnixEpoch),
        new DeliveryLogged(Entry),
        new RunReported("run-1"),
        new GetNotifyLedger(),
        NotifyLedgerState.Empty.Apply(new NotifyLedgerStarted(DateTimeOffset.UnixEpoch), 10).Apply(new DeliveryLogged(Entry), 10)
            .Apply(new RunReported("run-1"), 10),
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Round_trips_under_its_own_manifest(object message)
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<ReplicationSerializer>(serializer);
        Assert.Equal(message, serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message)), Json.Instance);
    }

    /// <summary>Equal when they serialize alike (records holding lists are not equal otherwise).</summary>
    private sealed class Json : IEqualityComparer<object>
    {
        public static readonly Json Instance = new();

        public new bool Equals(object? x, object? y) => Text(x) == Text(y);

        public int GetHashCode(object obj) => Text(obj).GetHashCode(StringComparison.Ordinal);

        private static string Text(object? o) => o is null ? "" : System.Text.Json.JsonSerializer.Serialize(o, o.GetType());
    }

    [Fact]
    public void The_books_refuse_a_bad_target_naming_the_field_and_keep_a_good_one()
    {
        var state = new ControlState();
        Assert.Equal("url: an http(s) URL is required", Refusal(state, Hook with { Webhook = new WebhookTarget("ftp://x", "s") }));
        Assert.StartsWith("events: \"run-started\"", Refusal(state, Hook with { JobId = null, Events = ["run-started"] }));
        Assert.Equal("job: no job job-1", Refusal(state, Hook));
        Assert.StartsWith("to: \"not an address\"", Refusal(state, Mail with { Email = Mail.Email! with { To = ["not an address"] } }));
        Assert.StartsWith("tls:", Refusal(state, Mail with { Email = Mail.Email! with { Tls = "ssl3" } }));
        var (added, done) = state.Process(new AddNotifyTarget(Mail));
        Assert.Equal(new Done("mail-1"), done);
        state = state.Apply(added!);
        Assert.IsType<Conflict>(state.Process(new AddNotifyTarget(Mail)).Reply);
        Assert.Equal([Mail], ((NotifyTargetList)state.Process(new GetNotifyTargets()).Reply).Targets);
        state = state.Apply(state.Process(new RemoveNotifyTarget("mail-1")).Event!);
        Assert.Empty(state.NotifyTargets);
        Assert.IsType<NotFound>(state.Process(new RemoveNotifyTarget("mail-1")).Reply);
    }

    [Fact]
    public void The_ledger_keeps_the_newest_entries_and_the_first_start()
    {
        var state = NotifyLedgerState.Empty.Apply(new NotifyLedgerStarted(DateTimeOffset.UnixEpoch), 3)
            .Apply(new NotifyLedgerStarted(DateTimeOffset.UtcNow), 3);
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            state = state.Apply(new DeliveryLogged(Entry with { Attempt = attempt }), 3);
        }

        Assert.Equal(DateTimeOffset.UnixEpoch, state.Since);
        Assert.Equal([5, 4, 3], state.Log.Select(e => e.Attempt));
    }

    [Fact]
    public void A_target_hears_the_events_and_the_job_it_asked_for()
    {
        var now = DateTimeOffset.UnixEpoch;
        Domain.Notify.RunEndedNotice Run(string job, string outcome) => new(job, job, "run-1", "manual", outcome, now, [], now);
        Assert.True(Hook.Wants(Run("job-1", "partial")));
        Assert.False(Hook.Wants(Run("job-1", "success")), "failures only");
        Assert.False(Hook.Wants(Run("job-2", "failure")), "another job");
        Assert.False(Hook.Wants(new Domain.Notify.NodeDown("akka.tcp://xcr@10.0.0.2:4053", [], "unreachable", now)));
        Assert.True(Mail.Wants(new Domain.Notify.NodeDown("akka.tcp://xcr@10.0.0.2:4053", [], "unreachable", now)));
        Assert.False((Mail with { Events = ["node-up"] }).Wants(new Domain.Notify.NodeDown("a", [], "unreachable", now)));
        Assert.True(Hook.Wants(new TestNotice("hook-1", now)));
    }

    private static string Refusal(ControlState state, NotifyTarget target)
        => Assert.IsType<Refused>(state.Process(new AddNotifyTarget(target)).Reply).Reason;
}
