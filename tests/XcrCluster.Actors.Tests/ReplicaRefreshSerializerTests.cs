using Akka.Serialization;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Actors.Tests;

/// <summary>A remote target refreshes its replica from what the commit message carries: every field the refresh reads
/// must come back through the serializer as a local target would read it (issue 15, settings that must act).</summary>
public sealed class ReplicaRefreshSerializerTests() : Akka.TestKit.Xunit2.TestKit(SerializerTests.Bound)
{
    [Fact]
    public void The_fields_a_remote_target_refreshes_from_survive_the_commit_message()
    {
        var record = new Dictionary<string, object?>
        {
            ["uuid"] = "snap-1", ["name_label"] = "[XO Backup nightly] web01", ["name_description"] = "front",
            ["HVM_shadow_multiplier"] = 1.0, ["has_vendor_device"] = true, ["actions_after_crash"] = "preserve",
            ["user_version"] = 3L, ["domain_type"] = "pvh", ["PV_args"] = "console=hvc0", ["ha_restart_priority"] = "restart",
            ["VCPUs_params"] = new Dictionary<string, object?> { ["weight"] = "512" },
            ["xenstore_data"] = new Dictionary<string, object?> { ["vm-data/role"] = "web" },
            ["bios_strings"] = new Dictionary<string, object?> { ["bios-vendor"] = "Dell Inc." },
            ["other_config"] = new Dictionary<string, object?> { ["xcr:order"] = "2", ["xcr:shutdown-delay"] = "30" },
        };
        var commit = SerializerTests.Commit with
        {
            Snapshot = VmRecord.From("OpaqueRef:snap", record), SnapshotRecord = record,
            Vtpms = [new Replication.SourceVtpm(false, "dHBt")],
        };
        var message = new CommitTarget("beta", "s", commit);
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        var back = ((CommitTarget)serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message))).Commit;

        var fields = new FieldReader(back.SnapshotRecord);
        Assert.Equal(1.0, fields.Double("HVM_shadow_multiplier")); // may come back a long: the refresh reads it as a double
        Assert.True(fields.Bool("has_vendor_device"));
        Assert.Equal(("preserve", 3L, "pvh", "console=hvc0", "restart"), (fields.Str("actions_after_crash"), fields.Long("user_version"),
            fields.Str("domain_type"), fields.Str("PV_args"), fields.Str("ha_restart_priority")));
        Assert.Equal("512", fields.Map("VCPUs_params")["weight"]);
        Assert.Equal("web", fields.Map("xenstore_data")["vm-data/role"]);
        Assert.Equal("Dell Inc.", fields.Map("bios_strings")["bios-vendor"]);
        Assert.Equal(("front", "30"), (back.Snapshot.NameDescription, back.Snapshot.OtherConfig["xcr:shutdown-delay"]));
        Assert.Equal(SerializerTests.Commit.Vifs[0].Record.Mac, back.Vifs[0].Record.Mac);
        Assert.Equal("net-1", back.Vifs[0].Network!.Uuid);
        Assert.Equal([new Replication.SourceVtpm(false, "dHBt")], back.Vtpms!);
        Assert.Null((SerializerTests.Commit with { }).Vtpms); // a commit from a sender that sends none leaves them
    }
}
