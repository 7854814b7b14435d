using Akka.Serialization;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>Every message of the recovery commands (records kept by the control plane, steps sent to agents, the
/// cross-node failback's requests and replies) survives the serializer under its manifest.</summary>
public sealed class RecoverySerializerTests : Akka.TestKit.Xunit2.TestKit
{
    public RecoverySerializerTests()
        : base(SerializerTests.Bound)
    {
    }

    private static readonly RecoveryRecord Recovery = new("recovery-1", RecoveryKind.FailoverCopy, "job-1", DateTimeOffset.UnixEpoch,
        DateTimeOffset.UnixEpoch.AddMinutes(1),
        [new RecoveryVmOutcome("vm-1", RunStatus.Success, null,
            [new LogLine("start the clone", "success", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)])
        {
            ResultVmUuid = "clone-1", Details = new Dictionary<string, string> { ["restorePoint"] = "rp-1" },
        }]);

    public static TheoryData<object> Messages() =>
        [
            new RunRecoveryStep("alpha", new Domain.Recovery.SeedExport("vm-1", new Domain.JobRef("job-1", "nightly", "schedule-1", "s"),
                "/mnt/seed")),
            new RunRecoveryStep("beta", new Domain.Recovery.SeedImport("/mnt/seed", "sr-1",
                new Domain.JobRef("job-1", "nightly", "schedule-1", "s"))
            {
                NetworkMapping = new Dictionary<string, string> { ["net-1"] = "net-2" }, CopyRetention = 3,
            }),
            new RecordRecovery(Recovery),
            new GetRecovery("recovery-1"),
            new RecoveryReply(Recovery),
            new RecoveryReply(null),
            new RecoveryRecorded(Recovery),
            new ControlState().Apply(new RecoveryRecorded(Recovery)),
            new RunRecoveryStep("beta", new StartReplica("vm-1", "sr-1", Force: true, "rp-1", "job-1") { DryRun = true, Start = false }),
            new RecoveryStepDone("beta", Recovery.Vms[0]),
            new RunRecoveryStep("beta", new TestReplica("vm-1", "sr-1", "job-1", "network-1", 600)),
            new RunRecoveryStep("alpha", new Domain.Recovery.SourcePower("vm-1", Domain.Recovery.SourcePowerAction.CleanShutdown)),
            new RunRecoveryStep("alpha", new Domain.Recovery.BlockSourceStart("vm-1", true, "failed over", "replica-1", "beta", "rec-1")),
            new RunRecoveryStep("beta", new Domain.Recovery.ReverseDelta("vm-1", "alpha", true)),
            new RunRecoveryStep("alpha", new Domain.Recovery.ReverseDelta("vm-1", "alpha", false, "beta")),
            new ReadFailbackReplica("beta", "vm-1"),
            new FailbackReplicaRead("beta", new Replication.Recovery.FailbackReplicaSide(SerializerTests.Commit.Snapshot,
                [new Replication.Recovery.FailbackVmDisk(SerializerTests.Vbd, SerializerTests.Vdi)],
                [new Replication.Recovery.FailbackPoint(SerializerTests.Commit.Snapshot, [new Replication.Recovery.FailbackVmDisk(SerializerTests.Vbd, SerializerTests.Vdi)])])),
            new SnapshotFailbackReplica("beta", "OpaqueRef:replica", "xcr failback of vm-1", [new FailbackDeltaDisk("0", "OpaqueRef:p")]),
            new FailbackReplicaSnapshotted("beta", "OpaqueRef:snap",
                [new FailbackDeltaShape("0", "OpaqueRef:vdi", new Vhd.VhdShape(1L << 30, [0, 5], null, 2 << 20))]),
            new SendFailbackDelta("beta", "OpaqueRef:vdi", "OpaqueRef:p", new DataChannel.ChannelTicket("failback/0", "127.0.0.1", 1, "t")),
            new FailbackDeltaSent("beta", 4096),
            new DropFailbackSnapshot("beta", "OpaqueRef:snap"),
            new FailbackSnapshotDropped("beta"),
            new FailbackReplicaFailed("beta", "pool beta has no started replica of VM vm-1", true),
        ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Round_trips_under_its_own_manifest(object message)
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<ReplicationSerializer>(serializer);
        var back = serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType()),
            System.Text.Json.JsonSerializer.Serialize(back, back.GetType()));
    }
}
