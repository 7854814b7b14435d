using XcrCluster.Domain;
using XcrCluster.Domain.Pools;

namespace XcrCluster.Domain.Tests;

/// <summary>Smart selection as Xen Orchestra does it (docs/xen-orchestra.md §3): tags, power state, exclusions,
/// and what is never selected; and the text form an operator types.</summary>
public sealed class SmartSelectionTests
{
    private const string JobId = "job-1";

    private static readonly VmInfo[] Vms =
    [
        Vm("web01", "Running", "web", "prod"),
        Vm("web02", "Halted", "web"),
        Vm("db01", "Running", "db", "prod"),
        Vm("web03", "Running", "web", "prod", "xo:no-bak"),
        Vm("web04", "Running", "web", "prod", "xo:no-bak=Health Check"),
        Vm("web05", "Running", "web", "prod", "xo:no-bakery"),
        Vm("web01-replica", "Halted", "web", "prod") with { IsReplica = true },
        Vm("made-by-this-job", "Halted", "web", "prod") with { BackupJob = JobId, StartBlocked = true },
        Vm("of-this-job-startable", "Running", "web", "prod") with { BackupJob = JobId },
    ];

    [Fact]
    public void Every_tag_must_match_and_the_power_state_if_given()
    {
        Assert.Equal(["web01", "web05", "of-this-job-startable"], Names(new SmartSelection("alpha", ["web", "prod"], "Running", []).Select(Vms, JobId)));
        Assert.Equal(["web01", "web02", "web05", "of-this-job-startable"], Names(new SmartSelection("alpha", ["web"], null, []).Select(Vms, JobId)));
        Assert.Equal(["web02"], Names(new SmartSelection("alpha", ["web"], "Halted", []).Select(Vms, JobId)));
    }

    [Fact]
    public void Empty_tags_select_any_VM_but_never_replicas_no_bak_or_what_this_job_made()
    {
        Assert.Equal(["web01", "web02", "db01", "web05", "of-this-job-startable"], Names(new SmartSelection("alpha", [], null, []).Select(Vms, JobId)));

        // A VM another job made, start blocked, is a replica anyway; one of this job still startable is a source.
        var otherJob = Vm("x", "Halted") with { BackupJob = "job-2", StartBlocked = true };
        Assert.Equal(["x"], Names(new SmartSelection("alpha", [], null, []).Select([otherJob], JobId)));
    }

    [Fact]
    public void Excluded_tags_remove_a_VM_whatever_else_it_matches()
        => Assert.Equal(["web02"], Names(new SmartSelection("alpha", ["web"], null, ["prod", XoMetadata.ReplicaTag]).Select(Vms, JobId)));

    [Fact]
    public void A_VM_is_a_replica_when_replication_made_it()
    {
        var none = new Dictionary<string, string>();
        Assert.False(VmInfo.IsReplicaRecord(none, [], ["web"]));
        Assert.True(VmInfo.IsReplicaRecord(new Dictionary<string, string> { [XoMetadata.Job] = "j" }, ["start", "start_on"], []));
        Assert.False(VmInfo.IsReplicaRecord(new Dictionary<string, string> { [XoMetadata.Job] = "j" }, ["pool_migrate"], []));
        Assert.True(VmInfo.IsReplicaRecord(new Dictionary<string, string> { [XoMetadata.CopyOf] = "snap" }, [], []));
        Assert.True(VmInfo.IsReplicaRecord(none, [], [XoMetadata.ReplicaTag]));
    }

    [Fact]
    public void The_text_form_reads_every_key_and_repeats_tags()
    {
        var selection = SmartSelection.Parse("pool=alpha, tag=web,tag=prod,power=running,exclude=foo,tag=xo:owner=ops");
        Assert.Equal("alpha", selection.Pool);
        Assert.Equal(["web", "prod", "xo:owner=ops"], selection.Tags);
        Assert.Equal("Running", selection.PowerState);
        Assert.Equal(["foo"], selection.ExcludedTags);
        Assert.Null(selection.Validate());

        var any = SmartSelection.Parse("pool=beta");
        Assert.Empty(any.Tags);
        Assert.Null(any.PowerState);
        Assert.Empty(any.ExcludedTags);
    }

    [Theory]
    [InlineData("pool=alpha,colour=red", "\"colour=red\": unknown key \"colour\"")]
    [InlineData("pool=alpha,web", "\"web\": expected key=value")]
    [InlineData("pool=alpha,tag=", "\"tag=\": expected key=value")]
    [InlineData("pool=alpha,,tag=web", "\"\": expected key=value")]
    [InlineData("pool=alpha,power=asleep", "\"power=asleep\": power is one of Halted, Paused, Running, Suspended")]
    [InlineData("pool=alpha,pool=beta", "\"pool=beta\": pool given twice")]
    [InlineData("pool=alpha,power=Running,power=Halted", "\"power=Halted\": power given twice")]
    [InlineData("tag=web", "pool: required")]
    [InlineData("", "\"\": expected key=value")]
    public void A_bad_part_is_named(string text, string error)
        => Assert.StartsWith(error, Assert.Throws<FormatException>(() => SmartSelection.Parse(text)).Message);

    [Fact]
    public void Validate_names_the_field()
    {
        Assert.Equal("pool: required", new SmartSelection(" ", [], null, []).Validate());
        Assert.StartsWith("tags:", new SmartSelection("alpha", ["web", ""], null, []).Validate());
        Assert.StartsWith("excludedTags:", new SmartSelection("alpha", [], null, [" "]).Validate());
        Assert.StartsWith("powerState:", new SmartSelection("alpha", [], "running", []).Validate());
    }

    private static VmInfo Vm(string name, string power, params string[] tags) => new($"uuid-{name}", name, power, tags, [], false);

    private static List<string> Names(IEnumerable<VmInfo> vms) => [.. vms.Select(v => v.Name)];
}
