using XcrCluster.Domain.Vm;
using XcrCluster.Domain;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim;

namespace XcrCluster.Replication.Tests;

/// <summary>Where a replica's VIFs land: same network, else same VLAN and name, else the VLAN, else the default.</summary>
public sealed class NetworkMappingTests
{
    private static readonly NetworkInfo[] Target =
    [
        new("t0", "u-t0", "Other LAN", -1, IsDefault: true),
        new("t1", "u-t1", "storage-net", 20),
        new("t2", "u-t2", "Storage", 30),
        new("t3", "u-t3", "Backup", 20),
    ];

    [Theory]
    [InlineData("u-t3", "Anything", 99L, "t3")]        // the same network (a target SR of the same pool)
    [InlineData("u-x", "Backup", 20L, "t3")]           // same VLAN and name
    [InlineData("u-x", "Storage", 20L, "t1")]          // the name exists on another VLAN: the first network of VLAN 20
    [InlineData("u-x", "LAN", -1L, "t0")]              // untagged: the first untagged network
    [InlineData("u-x", "DMZ", 55L, "t0")]              // no such VLAN: the pool's default (management) network
    public void A_vif_goes_to_the_best_matching_network(string uuid, string name, long vlan, string expected)
        => Assert.Equal(expected, NetworkMapping.Choose(new NetworkInfo("s", uuid, name, vlan), Target).Ref);

    [Fact]
    public void Without_a_default_the_first_network_takes_what_matches_nothing()
    {
        Assert.Equal("t1", NetworkMapping.Choose(new NetworkInfo("s", "u-x", "DMZ", 55), Target[1..]).Ref);
        Assert.Equal("t1", NetworkMapping.Choose(null, Target[1..]).Ref);
        Assert.Throws<InvalidOperationException>(() => NetworkMapping.Choose(null, []));
    }

    [Fact]
    public async Task A_replica_keeps_its_macs_and_lands_on_the_networks_of_the_same_vlans()
    {
        var source = SimHost.SmallFixture with
        {
            Networks = [new FixtureNetwork("LAN"), new FixtureNetwork("Storage", 20)],
            Vms = [SimHost.SmallFixture.Vms[2] with { Vifs = [new FixtureVif("LAN"), new FixtureVif("Storage")] }],
        };
        var target = SimHost.SmallFixture with { Networks = [new FixtureNetwork("Other LAN"), new FixtureNetwork("storage-net", 20), new FixtureNetwork("Storage", 30)] };
        await using var pools = await TwoPools.StartAsync(o => o with { Fixture = source }, o => o with { Fixture = target });
        var vm = await pools.SourceVmAsync("tiny01");
        var report = await pools.Replication(new ReplicationSettings(), await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);

        var sourceVifs = await VifsAsync(pools.Source, vm.Uuid);
        var replicaVifs = await VifsAsync(pools.Target, report.Targets[0].TargetVmUuid!);
        Assert.Equal(sourceVifs.Select(v => v.Mac), replicaVifs.Select(v => v.Mac));
        Assert.Equal(["Other LAN", "storage-net"], replicaVifs.Select(v => v.Network));
    }

    /// <summary>The job's networkMapping acts (issue 15: every setting has a test that fails if it is ignored): it wins over the
    /// automatic rule, which would take the same name.</summary>
    [Fact]
    public async Task The_jobs_network_mapping_wins_over_the_automatic_rule()
    {
        var source = SimHost.SmallFixture with
        {
            Networks = [new FixtureNetwork("LAN")],
            Vms = [SimHost.SmallFixture.Vms[2] with { Vifs = [new FixtureVif("LAN")] }],
        };
        var target = SimHost.SmallFixture with { Networks = [new FixtureNetwork("LAN"), new FixtureNetwork("DR LAN")] };
        await using var pools = await TwoPools.StartAsync(o => o with { Fixture = source }, o => o with { Fixture = target });
        var vm = await pools.SourceVmAsync("tiny01");
        var networks = async (Pool pool, string name)
            => (await pool.Client.GetAllRecordsAsync<NetworkRecord>()).Single(n => n.NameLabel == name).Uuid;
        var settings = new ReplicationSettings
        {
            NetworkMapping = new Dictionary<string, string>
            {
                [await networks(pools.Source, "LAN")] = await networks(pools.Target, "DR LAN"),
            },
        };
        var report = await pools.Replication(settings, await pools.TargetAsync()).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        Assert.Equal(["DR LAN"], (await VifsAsync(pools.Target, report.Targets[0].TargetVmUuid!)).Select(v => v.Network));
    }

    private static async Task<List<(string Mac, string Network)>> VifsAsync(Pool pool, string vmUuid)
    {
        var vm = await pool.VmAsync(await pool.VmRefAsync(vmUuid));
        var vifs = new List<(string Device, string Mac, string Network)>();
        foreach (var vifRef in vm.Vifs)
        {
            var vif = await pool.Client.GetRecordAsync<VifRecord>(vifRef);
            vifs.Add((vif.Device, vif.Mac, (await pool.Client.GetRecordAsync<NetworkRecord>(vif.Network)).NameLabel));
        }

        return [.. vifs.OrderBy(v => v.Device).Select(v => (v.Mac, v.Network))];
    }
}
