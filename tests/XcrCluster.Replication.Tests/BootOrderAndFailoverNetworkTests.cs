using XcrCluster.Domain;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication.Recovery;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim;

namespace XcrCluster.Replication.Tests;

/// <summary>What a whole-job failover needs from the engine: the source VM's boot order and start delay on the replica
/// (XAPI resets both on snapshot and copy), and the job's network mapping applied to a started copy's VIFs.</summary>
public sealed class BootOrderAndFailoverNetworkTests
{
    [Fact]
    public async Task The_source_vm_s_order_and_start_delay_reach_the_replica_and_follow_a_change()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        await pools.Source.SetBootOrderAsync(vm.Ref, 3, 7);
        var first = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);
        var replica = await VmAsync(pools.Target, first.Targets[0].TargetVmUuid!);
        Assert.Equal((3L, 7L), (replica.Order, replica.StartDelay));
        var snapshot = await VmAsync(pools.Source, first.SourceSnapshotUuid!);
        Assert.Equal((0L, 0L), (snapshot.Order, snapshot.StartDelay)); // reset by VM.snapshot, carried by our keys
        Assert.Equal(("3", "7"), (snapshot.OtherConfig[ReplicaSettings.OrderKey], snapshot.OtherConfig[ReplicaSettings.StartDelayKey]));

        await pools.Source.SetBootOrderAsync(vm.Ref, 1, 0);
        pools.CollectGarbage();
        var second = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(second.Status == RunStatus.Success && !second.Full, second.Error);
        replica = await VmAsync(pools.Target, second.Targets[0].TargetVmUuid!);
        Assert.Equal((1L, 0L), (replica.Order, replica.StartDelay));
    }

    [Fact]
    public async Task A_failover_copy_moves_a_vif_the_job_s_mapping_now_sends_to_another_network()
    {
        var source = SimHost.SmallFixture with
        {
            Networks = [new FixtureNetwork("LAN"), new FixtureNetwork("Storage", 20)],
            Vms = [SimHost.SmallFixture.Vms[2] with { Vifs = [new FixtureVif("LAN"), new FixtureVif("Storage")] }],
        };
        var targetFixture = SimHost.SmallFixture with
        {
            Networks = [new FixtureNetwork("LAN"), new FixtureNetwork("Storage", 20), new FixtureNetwork("DR LAN", 30)],
        };
        await using var pools = await TwoPools.StartAsync(o => o with { Fixture = source }, o => o with { Fixture = targetFixture });
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var report = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        var lan = (await pools.Source.NetworksAsync()).Single(n => n.Name == "LAN").Uuid;
        var networks = await pools.Target.NetworksAsync();
        var drLan = networks.Single(n => n.Name == "DR LAN");
        var mapping = new Dictionary<string, string> { [lan] = drLan.Uuid };
        var step = new StartReplica(vm.Uuid, target.SrUuid, Force: false, JobId: TwoPools.Job.JobId) { Networks = mapping };

        var before = (await pools.Target.Client.GetAllRecordsAsync<VifRecord>()).Count;
        var plan = await Failover.StartAsync(pools.Target, step with { DryRun = true }, CancellationToken.None);
        Assert.True(plan.Status == RunStatus.Success, plan.Error);
        Assert.Contains(plan.Log, l => l.Name.StartsWith("would move VIF 0", StringComparison.Ordinal) && l.Name.Contains(drLan.Uuid));
        Assert.Equal(before, (await pools.Target.Client.GetAllRecordsAsync<VifRecord>()).Count);

        var outcome = await Failover.StartAsync(pools.Target, step, CancellationToken.None);
        Assert.True(outcome.Status == RunStatus.Success, outcome.Error);
        Assert.Equal("success", outcome.Log.Single(l => l.Name.StartsWith("move VIF 0", StringComparison.Ordinal)).Status);
        var clone = await VmAsync(pools.Target, outcome.ResultVmUuid!);
        Assert.Equal("Running", clone.PowerState);
        var vifs = new List<VifRecord>();
        foreach (var vif in clone.Vifs)
        {
            vifs.Add(await pools.Target.VifAsync(vif));
        }

        var byName = networks.ToDictionary(n => n.Ref, n => n.Name);
        Assert.Equal(["0:DR LAN", "1:Storage"], vifs.OrderBy(v => v.Device).Select(v => $"{v.Device}:{byName[v.Network]}"));

        // The replica keeps its VIFs: the chain is untouched.
        var replica = await VmAsync(pools.Target, report.Targets[0].TargetVmUuid!);
        var replicaNetworks = new List<string>();
        foreach (var vif in replica.Vifs)
        {
            replicaNetworks.Add(byName[(await pools.Target.VifAsync(vif)).Network]);
        }

        Assert.Equal(["LAN", "Storage"], replicaNetworks.Order());
    }

    private static async Task<VmRecord> VmAsync(Pool pool, string uuid) => await pool.VmAsync(await pool.VmRefAsync(uuid));
}
