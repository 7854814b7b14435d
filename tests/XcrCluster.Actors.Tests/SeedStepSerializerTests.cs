using Akka.Serialization;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Recovery;

namespace XcrCluster.Actors.Tests;

/// <summary>`xcr seed`'s steps reach an agent on another node whole: the step by its own discriminator, the sealed login, and
/// the views and prior values carried in an outcome's details.</summary>
public sealed class SeedStepSerializerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly SeedView Source = new("snap-1", "snapshot", true, true, "Halted", "20260101T12:00:00Z",
        [new SeedDisk("0", "vdi-0", 1L << 30, "sr-a", 1, false)])
    {
        SnapshotOfUuid = "vm-1", SnapshotOfName = "web01", SnapshotOfTags = ["web"],
    };

    private T RoundTrip<T>(T message)
        where T : notnull
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        return (T)serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
    }

    [Fact]
    public void A_seed_step_keeps_its_type_its_views_and_the_sealed_login()
    {
        var seed = new JobSeed("job-1", "hourly", "schedule-1", "", "vm-1");
        var step = new RunRecoveryStep("beta", new WriteSeedTarget("vm-1", seed, Source, Source with { Uuid = "seed-1" }, "sr-b"))
        {
            Login = new PoolRegistration("beta", "https://10.0.0.2", "admin", "c2VhbGVk", null, true),
        };
        var back = RoundTrip(step);
        var write = Assert.IsType<WriteSeedTarget>(back.Step);
        Assert.Equal(seed, write.Seed);
        Assert.True(write.Source.SameAs(Source));
        Assert.Equal(["web"], write.Source.SnapshotOfTags);
        Assert.Equal("seed-1", write.Expected.Uuid);
        Assert.Equal(step.Login, back.Login);
        Assert.IsType<ReadSeedSide>(RoundTrip(new RunRecoveryStep("alpha", new ReadSeedSide("snap-1", "snap-1"))).Step);
    }

    [Fact]
    public void Views_and_prior_values_come_back_from_an_outcomes_details()
    {
        var prior = new SeedPrior(new Dictionary<string, Dictionary<string, string?>> { ["vm-1"] = new() { ["xo:backup:job"] = null } },
            new Dictionary<string, Dictionary<string, string?>> { ["vdi-0"] = new() { ["xo:copy_of"] = "old" } })
        {
            NameLabel = "imported", WasATemplate = true, BlockedOperations = new Dictionary<string, string?> { ["start"] = null },
        };
        var outcome = new RecoveryVmOutcome("vm-1", Domain.Vm.RunStatus.Success, null, [])
        {
            Details = new Dictionary<string, string> { [SeedView.DetailsKey] = Source.ToJson(), [SeedPrior.DetailsKey] = prior.ToJson() },
        };
        var back = RoundTrip(new RecoveryStepDone("alpha", outcome)).Outcome;
        Assert.True(SeedView.From(back)!.SameAs(Source));
        var again = SeedPrior.From(back)!;
        Assert.Null(again.Vms["vm-1"]["xo:backup:job"]);
        Assert.Equal("old", again.Vdis["vdi-0"]["xo:copy_of"]);
        Assert.True(again.WasATemplate);
        Assert.Equal("imported", again.NameLabel);
    }

    public SeedStepSerializerTests()
        : base(SerializerTests.Bound)
    {
    }
}
