using XcrCluster.Domain.Control;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>`xcr seed`'s checks on the two sides read from the pools (the CLI tests run the common refusals end to end).</summary>
public sealed class SeedCheckTests
{
    private const string Sr = "sr-beta";

    private static readonly JobDefinition Job = new("job-1", "hourly", "alpha", ["vm-1"], [new TargetRef("beta", Sr)],
        new ReplicationSettings());

    private static readonly SeedView Source = new("snap-1", "snapshot", true, true, "Halted", "20260101T12:00:00Z",
        [new SeedDisk("0", "snap-vdi-0", 10, "sr-alpha", 1, false), new SeedDisk("1", "snap-vdi-1", 20, "sr-alpha", 1, false)])
    {
        SnapshotOfUuid = "vm-1", SnapshotOfName = "web01", SnapshotOfTags = ["web"], SnapshotOfPowerState = "Running",
    };

    private static readonly SeedView Target = new("seed-1", "imported", false, true, "Halted", "19700101T00:00:00Z",
        [new SeedDisk("0", "seed-vdi-0", 10, Sr, 1, false), new SeedDisk("1", "seed-vdi-1", 20, Sr, 1, false)]);

    [Fact]
    public void A_snapshot_of_a_job_vm_and_an_imported_template_with_paired_disks_on_a_job_sr_pass()
        => Assert.Equal((null, Sr), SeedCheck.Check(Job, "alpha", "beta", Source, Target));

    [Fact]
    public void A_smart_job_takes_the_snapshot_of_a_vm_its_selection_matches()
    {
        var smart = Job with { Vms = [], Smart = new SmartSelection("alpha", ["web"], null, []) };
        Assert.Null(SeedCheck.Check(smart, "alpha", "beta", Source, Target).Refusal);
        var noBak = Source with { SnapshotOfTags = ["web", "xo:no-bak"] };
        Assert.Contains("not a VM of job", SeedCheck.Check(smart, "alpha", "beta", noBak, Target).Refusal);
        var halted = smart with { Smart = smart.Smart! with { PowerState = "Halted" } };
        Assert.Contains("not a VM of job", SeedCheck.Check(halted, "alpha", "beta", Source, Target).Refusal);
    }

    [Theory]
    [InlineData("other-pool", "beta", "replicates VMs of pool alpha, not of pool other-pool")]
    [InlineData("alpha", "gamma", "not a target of job job-1")]
    public void The_pools_must_be_the_jobs(string sourcePool, string targetPool, string reason)
        => Assert.Contains(reason, SeedCheck.Check(Job, sourcePool, targetPool, Source, Target).Refusal);

    [Fact]
    public void Each_refusal_names_its_reason()
    {
        var cases = new (SeedView Source, SeedView Target, string Reason)[]
        {
            (Source with { IsASnapshot = false }, Target, "is not a snapshot"),
            (Source with { SnapshotOfUuid = null }, Target, "no longer exists"),
            (Source with { IsCopy = true }, Target, "a replica's restore point"),
            (Source with { Disks = [Source.Disks[0] with { Attached = 2 }, Source.Disks[1]] }, Target, "is attached to 2 VMs"),
            (Source with { Disks = [] }, Target, "has no disks"),
            (Source, Target with { IsASnapshot = true }, "is a snapshot"),
            (Source, Target with { Uuid = "vm-1" }, "is the source VM itself"),
            (Source, Target with { PowerState = "Suspended" }, "is suspended: a seed VM must be halted"),
            (Source, Target with { Disks = [Target.Disks[0]] }, "disk 1 of the snapshot has no disk at the same userdevice"),
            (Source, Target with { Disks = [.. Target.Disks, new SeedDisk("2", "x", 5, Sr, 1, false)] }, "disk 2 of target VM"),
            (Source, Target with { Disks = [Target.Disks[0], Target.Disks[1] with { VirtualSize = 21 }] }, "same virtual size"),
            (Source, Target with { Disks = [Target.Disks[0], Target.Disks[1] with { SrUuid = "sr-2" }] }, "are on 2 SRs"),
        };
        foreach (var (source, target, reason) in cases)
        {
            Assert.Contains(reason, SeedCheck.Check(Job, "alpha", "beta", source, target).Refusal);
        }
    }
}
