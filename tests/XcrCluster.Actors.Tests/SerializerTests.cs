using Akka.Actor;
using Akka.Serialization;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>Every message and the snapshot survive the serializer, under the manifest the journal stores.</summary>
public sealed class SerializerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly PoolRegistration Pool = new("alpha", "https://10.0.0.1", "root", "c2VjcmV0", null, true);

    private static readonly JobDefinition Job = new("job-1", "nightly", "schedule-1", "alpha", [Guid.NewGuid().ToString()], [new TargetRef("alpha", "sr-1")], new Domain.ReplicationSettings());

    public static TheoryData<object> Messages()
    {
        var request = Requests.For("vm-1", "job-1", "run-1");
        var state = new ReplicatedVmState { VmUuid = "vm-1" }.Apply(new RunStarted("vm-1", request, DateTimeOffset.UnixEpoch))
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
            state,
            new RegisterPool(Pool),
            new DefineJob(Job),
            new GetPools(),
            new GetJob("job-1"),
            new Done("job-1"),
            new Refused("vms: one or more VM uuids"),
            new PoolList([Pool]),
            new JobReply(Job),
            new PoolRegistered(Pool),
            new JobDefined(Job),
            new ControlState().Apply(new PoolRegistered(Pool)).Apply(new JobDefined(Job)),
            new AcquireSlots("alpha", SlotKind.Transfer, 3, "lease-1", "akka.tcp://xcr@127.0.0.1:4053"),
            new SlotsGranted("alpha", "lease-1"),
            new ReleaseSlots("alpha", "lease-1"),
            new GetPoolLoad("alpha"),
            new PoolLoad("alpha", 1, 12, 4),
        ];
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
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType()), System.Text.Json.JsonSerializer.Serialize(back, back.GetType()));
    }

    public SerializerTests()
        : base(Akka.Configuration.ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.xcr-replication = "{{typeof(ReplicationSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings {
              {{string.Join("\n", ReplicationSerializer.BoundTypes.Select(t => $"\"{t.AssemblyQualifiedName}\" = xcr-replication"))}}
            }
            akka.actor.serialization-identifiers."{{typeof(ReplicationSerializer).AssemblyQualifiedName}}" = {{ReplicationSerializer.SerializerId}}
            """))
    {
    }
}
