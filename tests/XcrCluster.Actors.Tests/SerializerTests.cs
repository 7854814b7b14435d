using Akka.Actor;
using Akka.Serialization;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>Every message and the snapshot survive the serializer, under the manifest the journal stores.</summary>
public sealed class SerializerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly PoolRegistration Pool = new("alpha", "https://10.0.0.1", "root", "c2VjcmV0", null, true);

    private static readonly JobDefinition Job = new("job-1", "nightly", "alpha", [Guid.NewGuid().ToString()],
        [new TargetRef("alpha", "sr-1")], new Domain.ReplicationSettings())
    {
        Schedules = [new JobSchedule("schedule-1", "*/15 * * * *", "Europe/Paris") { CopyRetention = 3, ForceFull = true,
            Rpo = TimeSpan.FromMinutes(5) }],
        Rpo = TimeSpan.FromMinutes(15),
    };

    private static readonly RunLaunch Launch = new("run-1", "job-1", "schedule-1", ["vm-1"], "manual", DateTimeOffset.UnixEpoch);

    public static TheoryData<object> Messages()
    {
        var request = Requests.For("vm-1", "job-1", "run-1");
        var state = new ReplicatedVmState { VmUuid = "vm-1" }.Apply(new RunStarted("vm-1", request, DateTimeOffset.UnixEpoch))
            .Apply(new TargetCommitted("vm-1", "run-1", Chain, "beta", "replica-1",
                new RestorePoint("rp-1", DateTimeOffset.UnixEpoch, 4096)))
            .Apply(new ChainAdvanced("vm-1", "run-1", Chain, "snap-1", 0))
            .Apply(new RunFinished("vm-1", "job-1", Requests.Success("run-1"), DateTimeOffset.UnixEpoch.AddHours(1)));
        return
        [
            request,
            new GetVmStatus("vm-1"),
            new RunAccepted("vm-1", "run-1", true),
            new RunRejected("vm-1", "run-1", "the job (job-1) is already running"),
            new RunStarted("vm-1", request, DateTimeOffset.UnixEpoch),
            new RunQueued("vm-1", request, DateTimeOffset.UnixEpoch),
            new RunFinished("vm-1", "job-1", Requests.Success("run-1"), DateTimeOffset.UnixEpoch),
            new RunInterrupted("vm-1", "run-1", "job-1", DateTimeOffset.UnixEpoch),
            request with { Held = true },
            new RunQueued("vm-1", request with { Held = true }, DateTimeOffset.UnixEpoch),
            new ReleaseRun("vm-1", "run-1"),
            GetNodeInfo.Instance,
            new NodeInfo(new Dictionary<string, string> { ["http"] = "http://10.0.0.2:8080", ["data"] = "10.0.0.2:7000" }, ["alpha"]),
            new WatchRun("vm-1", "run-1"),
            new RunTurn("vm-1", "run-1", "queued"),
            new RunReleased("vm-1", "run-1", DateTimeOffset.UnixEpoch),
            new HeldRunDropped("vm-1", "run-1", "the run's coordinator said nothing", DateTimeOffset.UnixEpoch),
            new SnapshotTaken("vm-1", "run-1", "snap-1", DateTimeOffset.UnixEpoch),
            new DiskTransferred("vm-1", "run-1", "vdi-1", "sr-1", 4096, DateTimeOffset.UnixEpoch),
            new ReplicatedVmState { VmUuid = "vm-1" }.Apply(new RunStarted("vm-1", request, DateTimeOffset.UnixEpoch))
                .Apply(new SnapshotTaken("vm-1", "run-1", "snap-1", DateTimeOffset.UnixEpoch))
                .Apply(new DiskTransferred("vm-1", "run-1", "vdi-1", "sr-1", 4096, DateTimeOffset.UnixEpoch)),
            state,
            new RegisterPool(Pool),
            new DefineJob(Job),
            new GetPools(),
            new GetJob("job-1"),
            new Done("job-1"),
            new Refused("vms: one or more VM uuids"),
            new Conflict("name: a pool named alpha is registered"),
            new PoolList([Pool]),
            new JobReply(Job),
            new PoolRegistered(Pool),
            new JobDefined(Job),
            new ControlState().Apply(new PoolRegistered(Pool)).Apply(new JobDefined(Job)),
            new GetJobs(),
            new JobList([Job]),
            new ScheduleFired("schedule-1", "job-1", DateTimeOffset.UnixEpoch),
            new EnableJob("job-1", false),
            new JobEnabled("job-1", false),
            new ChangeJob("job-1", new Dictionary<string, string> { ["copyRetention"] = "3" }),
            new DeleteJob("job-1"),
            new AddSchedule("job-1", Job.Schedules[0]),
            new RemoveSchedule("job-1", "schedule-1"),
            new EnableSchedule("job-1", "schedule-1", true),
            new ChangeSchedule("job-1", "schedule-1", new Dictionary<string, string> { ["healthCheckTimeout"] = "2m" }),
            new ScheduleAdded("job-1", Job.Schedules[0] with
            {
                HealthCheckSr = "sr-2", HealthCheckVmsWithTags = ["web"], HealthCheckTimeout = TimeSpan.FromMinutes(5),
            }),
            new RecordRun(Launch),
            new ForgetVm("vm-1"),
            new GetKnown(),
            new Known(["vm-1"], [Launch]),
            new NotFound("no job x"),
            new JobDeleted("job-1"),
            new ScheduleAdded("job-1", Job.Schedules[0]),
            new ScheduleRemoved("job-1", "schedule-1"),
            new ScheduleEnabled("job-1", "schedule-1", false),
            new RunRecorded(Launch),
            new VmForgotten("vm-1"),
            new ForgetReplicas("vm-1", "sr-1"),
            new ReplicasForgotten("vm-1", null, DateTimeOffset.UnixEpoch),
            new ReplicasForgottenReply("vm-1", "sr-1"),
            new ChainsReconciled("vm-1", "run-1", [Observation],
                [new ChainDifference(ChainDifferenceKind.ChainBroken, Chain, "snap-1", "chain broken")],
                [new SrReadFailure("gamma", "sr-9", "timed out")], DateTimeOffset.UnixEpoch),
            new TargetCommitted("vm-1", "run-1", Chain, "beta", null, new RestorePoint("rp-1", null, 0)),
            new ChainAdvanced("vm-1", "run-1", Chain, null, null),
            new RestorePointsPruned("vm-1", "run-1", Chain, ["rp-0"]),
            new GetSrReplicas("beta", "sr-1", "vm-1", ["replica-1"]),
            new SrReplicas("beta", Observation),
            new SrReplicasFailed("beta", "sr-1", "Connection refused"),
            new PurgeOnPool("beta", "sr-1", null, ["vm-1"]),
            new PurgeOnPool("alpha", null, "job-1", null),
            new PoolPurged("beta", "sr-1", 0, 3, 1),
            new PurgeFailed("beta", null, "Connection refused"),
            new AcquireSlots("alpha", SlotKind.Transfer, 3, "lease-1", "akka.tcp://xcr@127.0.0.1:4053"),
            new SlotsGranted("alpha", "lease-1"),
            new ReleaseSlots("alpha", "lease-1"),
            new GetPoolLoad("alpha"),
            new PoolLoad("alpha", 1, 12, 4),
            new GetInventory("alpha"),
            new PoolInventory("alpha", [new SrInfo("sr-1", "Local storage", "ext", false, 100L << 30, 3L << 30)],
                [new VmInfo("vm-1", "web01", "Running", ["web", "prod"], [new DiskInfo("vdi-1", "web01 disk 0", 1L << 30, "sr-1")], false,
                    "job-1", true)],
                DateTimeOffset.UnixEpoch),
            new InventoryFailed("alpha", "Connection refused (127.0.0.1:1)"),
            new CheckPoolLogin("alpha", Pool, Forwarded: true),
            new PoolLoginChecked("alpha", "SESSION_AUTHENTICATION_FAILED", "akka.tcp://xcr@127.0.0.1:4053"),
            new OpenTarget("beta", "s-1", new Domain.JobRef("job-1", "nightly", "schedule-1", "hourly"), "vm-1", "web01", "sr-1"),
            new TargetOpened("beta", "s-1", "Local storage"),
            new RemoveTargetLeftovers("beta", "s-1"),
            new FindTargetBases("beta", "s-1", ["vdi-1", "vdi-2"]),
            new FindTargetBasesByContent("beta", "s-1",
                [new Domain.ContentSnapshotDisk("snap-vdi-1", "vdi-1", "20260101T00:00:00Z", "key-1")]),
            new PrepareTargetDisk("beta", "s-1", Vdi, "vdi-0"),
            new ExpectTargetImport("beta", "s-1", "OpaqueRef:disk",
                new Vhd.VhdShape(1L << 30, [0, 5, 9], new Vhd.VhdParent(Guid.NewGuid(), "parent.vhd", 12345), 2 << 20)),
            new TargetImportTicket("beta", "s-1", new DataChannel.ChannelTicket("s-1/disk", "127.0.0.1", 40123, "ab12")),
            new CommitTarget("beta", "s-1", Commit),
            new RollBackTarget("beta", "s-1"),
            new PruneTarget("beta", "s-1", 1),
            new HealthCheckTarget("beta", "s-1", "rp-1", "sr-2", TimeSpan.FromMinutes(10)),
            new CloseTarget("beta", "s-1"),
            new LeftoversRemoved("beta", "s-1", 2),
            new BasesFound("beta", "s-1", ["vdi-1"], "replica r-1 is left as it is (it is running)"),
            new DiskPrepared("beta", "s-1", "OpaqueRef:disk"),
            new ReplicaCommitted("beta", "s-1", "vm-9", "rp-1"),
            new TargetRolledBack("beta", "s-1"),
            new TargetPruned("beta", "s-1", ["rp-0"]),
            new HealthChecked("beta", "s-1", "guest answered after 12 s"),
            new TargetFailed("beta", "s-1", "SR_BACKEND_FAILURE_44"),
            new RunSource("alpha", "run-1/vm-1/s", request),
            new SourceStarted("alpha", "run-1/vm-1/s"),
            new SourceFinished("alpha", "run-1/vm-1/s", Requests.Success("run-1")),
            new CancelSource("alpha", "run-1/vm-1/s"),
            new SourceFinished("alpha", "run-1/vm-2/s", Requests.Success("run-1") with
            {
                Bases =
                [
                    new Domain.DiskBase("vdi-1", "snap-vdi-1", Domain.FullReason.NoExportedSnapshot)
                    {
                        Origin = Domain.BaseOrigin.ContentKey,
                    },
                    new Domain.DiskBase("vdi-2", null, Domain.FullReason.MissingOnTarget) { Fallback = Domain.ContentKeyOutcome.NoMatch },
                ],
            }),
            new RunProgress("run-1", "job-1", "vm-1", "vdi-1", "disk 0", "sr-1", 12L << 20, 32L << 20, RunPhase.Export,
                DateTimeOffset.UnixEpoch) { VmName = "web01", SrName = "Local storage" },
            new RunProgress("run-1", "job-1", "vm-1", null, null, null, 0, 0, RunPhase.Snapshot, DateTimeOffset.UnixEpoch),
            new RunEnded("run-1", "vm-1", "success"),
            new Domain.Notify.RunEndedNotice("job-1", "nightly", "run-1", "by hand", "partial", DateTimeOffset.UnixEpoch,
                [new Domain.Notify.VmOutcome("vm-1", "web", "failure", "boom", 0)], DateTimeOffset.UnixEpoch),
            new Domain.Notify.RpoViolated("job-1", "nightly", "vm-1", "web", null, 30, DateTimeOffset.UnixEpoch),
            new Domain.Notify.RpoRecovered("job-1", "nightly", "vm-1", "web", 12.5, 30, DateTimeOffset.UnixEpoch),
            new Domain.Notify.NodeDown("akka.tcp://xcr@10.0.0.2:4053", ["control"], "unreachable", DateTimeOffset.UnixEpoch),
            new Domain.Notify.NodeUp("akka.tcp://xcr@10.0.0.2:4053", ["control"], DateTimeOffset.UnixEpoch),
            new SlotsRefused("alpha", "lease-1", "pool alpha: no transfer slot free within 12:00:00"),
            new ControlRequest("req-1", new RegisterPool(Pool)),
            new ControlApplied("req-1", new PoolRegistered(Pool), new Done("alpha")),
            new ControlBook().Apply(new ControlApplied("req-1", new JobDefined(Job), new Done("job-1"))),
            new SchedulerState().Apply(new ScheduleFired("schedule-1", "job-1", DateTimeOffset.UnixEpoch)),
        ];
    }

    private static readonly ChainKey Chain = new(new Domain.JobId("job-1"), new Domain.ScheduleId("schedule-1"), new Domain.SrId("sr-1"));

    private static readonly SrObservation Observation = new("beta", "sr-1",
        [new ObservedRestorePoint("rp-1", "job-1", "schedule-1", DateTimeOffset.UnixEpoch, 4096, "snap-1", "replica-1")], ["replica-1"]);

    /// <summary>What the journal holds from before the status was an enum and the chains existed still reads.</summary>
    [Fact]
    public void Events_and_snapshots_of_the_previous_format_still_read()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(new GetVmStatus("vm-1"));
        var finished = (RunFinished)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes("""
            {"vmUuid":"vm-1","jobId":"job-1","result":{"runId":"run-1","status":"failure","error":"boom","full":false,
             "sourceSnapshotUuid":null,"targets":[],"log":[]},"at":"2026-01-01T00:00:00+00:00"}
            """), "run-finished");
        Assert.Equal(RunStatus.Failed, finished.Result.Status);
        var state = (ReplicatedVmState)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes("""
            {"vmUuid":"vm-1","queue":[],"history":[],"restorePoints":{"sr-1":["rp-1"]},"lastSuccess":null}
            """), "vm-state");
        Assert.Empty(state.Chains);
    }

    internal static readonly Xapi.Records.VdiRecord Vdi = Xapi.Records.VdiRecord.From("OpaqueRef:vdi", new Dictionary<string, object?>
    {
        ["uuid"] = "vdi-1", ["name_label"] = "disk 0", ["virtual_size"] = 1L << 30,
        ["other_config"] = new Dictionary<string, object?> { ["xo:copy_of"] = "x" },
    });

    internal static readonly Xapi.Records.VbdRecord Vbd = Xapi.Records.VbdRecord.From("OpaqueRef:vbd", new Dictionary<string, object?>
    {
        ["uuid"] = "vbd-1", ["userdevice"] = "0", ["VDI"] = "OpaqueRef:vdi",
    });

    /// <summary>A commit carries the source snapshot's raw record: its values must come back as plain XAPI values.</summary>
    internal static readonly Replication.TargetCommit Commit = new(
        Xapi.Records.VmRecord.From("OpaqueRef:snap",
            new Dictionary<string, object?> { ["uuid"] = "snap-1", ["name_label"] = "web01", ["VCPUs_max"] = 2L }),
        new Dictionary<string, object?> { ["name_label"] = "web01", ["VCPUs_max"] = 2L,
            ["platform"] = new Dictionary<string, object?> { ["viridian"] = "true" }, ["tags"] = new List<object?> { "a" },
            ["ha_always_run"] = false },
        [new Replication.TargetDisk(Xapi.Records.VbdRecord.From("OpaqueRef:vbd",
            new Dictionary<string, object?> { ["userdevice"] = "0", ["type"] = "Disk" }), Vdi, "OpaqueRef:target")],
        [new Replication.SourceVif(Xapi.Records.VifRecord.From("OpaqueRef:vif",
            new Dictionary<string, object?> { ["MAC"] = "aa:bb:cc:dd:ee:ff", ["device"] = "0" }),
            new Domain.NetworkInfo("OpaqueRef:net", "net-1", "LAN", -1))],
        DateTimeOffset.UnixEpoch, 4096, 2);

    [Fact]
    public void A_commit_brings_the_snapshot_record_back_as_plain_values()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(new CommitTarget("beta", "s", Commit));
        var back = (CommitTarget)serializer.FromBinary(serializer.ToBinary(new CommitTarget("beta", "s", Commit)), "commit-target");
        var record = back.Commit.SnapshotRecord;
        Assert.IsType<long>(record["VCPUs_max"]);
        Assert.IsType<bool>(record["ha_always_run"]);
        Assert.Equal("true", Assert.IsType<Dictionary<string, object?>>(record["platform"])["viridian"]);
        Assert.Equal(["a"], Assert.IsType<List<object?>>(record["tags"]));
    }

    [Fact]
    public void A_request_and_the_book_carry_their_inner_messages_whole()
    {
        var book = new ControlBook().Apply(new ControlApplied("req-1", new JobDefined(Job), new Done("job-1")));
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(book);
        var back = (ControlBook)serializer.FromBinary(serializer.ToBinary(book), serializer.Manifest(book));
        Assert.Equal("nightly", back.State.Jobs["job-1"].Name);
        var job = back.State.Jobs["job-1"];
        Assert.Equal((TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(5)), (job.Rpo, job.Schedules[0].Rpo));
        Assert.Equal(new AppliedRequest("req-1", new Done("job-1")), Assert.Single(back.Applied));

        var request = new ControlRequest("req-2", new AddSchedule("job-1", Job.Schedules[0]));
        var command =
            Assert.IsType<AddSchedule>(((ControlRequest)serializer.FromBinary(serializer.ToBinary(request), "control-request")).Command);
        Assert.Equal(Job.Schedules[0], command.Schedule);
    }

    [Fact]
    public void A_recovery_step_keeps_its_type_and_its_options()
    {
        var step = new StartReplica("vm-1", "sr-1", Force: true, JobId: "job-1")
        {
            DryRun = true, Start = false, Networks = new Dictionary<string, string> { ["net-a"] = "net-b" },
        };
        var message = new RunRecoveryStep("beta", step);
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        var back = Assert.IsType<StartReplica>(((RunRecoveryStep)serializer.FromBinary(serializer.ToBinary(message),
            serializer.Manifest(message))).Step);
        Assert.Equal((true, false, true, "net-b"), (back.DryRun, back.Start, back.Force, back.Networks!["net-a"]));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Round_trips_under_its_own_manifest(object message)
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<ReplicationSerializer>(serializer);
        var manifest = serializer.Manifest(message);
        Assert.DoesNotContain(".", manifest);
        var back = serializer.FromBinary(serializer.ToBinary(message), manifest);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType()),
            System.Text.Json.JsonSerializer.Serialize(back, back.GetType()));
    }

    /// <summary>The serializer bound as the node binds it (hocon/), for every test class that round-trips messages.</summary>
    internal static readonly Akka.Configuration.Config Bound = Akka.Configuration.ConfigurationFactory.ParseString($$"""
        akka.actor.serializers.xcr-replication = "{{typeof(ReplicationSerializer).AssemblyQualifiedName}}"
        akka.actor.serialization-bindings {
          {{string.Join("\n", ReplicationSerializer.BoundTypes.Select(t => $"\"{t.AssemblyQualifiedName}\" = xcr-replication"))}}
        }
        akka.actor.serialization-identifiers."{{typeof(ReplicationSerializer).AssemblyQualifiedName}}" = {{ReplicationSerializer.SerializerId}}
        """);

    public SerializerTests()
        : base(Bound)
    {
    }
}
