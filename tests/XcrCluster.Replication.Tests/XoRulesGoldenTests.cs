using System.Text.Json.Nodes;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>Xen Orchestra must be able to continue the chains we make (issue 15): from the state our engine leaves on both
/// pools, tests/node/xo-rules.mjs — Xen Orchestra's base selection and target matching as the spec writes them, read through the
/// real npm xen-api client — finds the same base per disk and the same target VM as our engine's next run uses; and the real
/// xo-cr-seed run against a chain we made leaves a chain both still continue.</summary>
[Collection("processes")]
public sealed class XoRulesGoldenTests
{
    [Fact]
    public async Task Xen_Orchestra_rules_pick_the_base_and_target_vm_our_next_run_uses()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("web01");
        var target = await pools.TargetAsync();
        var first = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);

        for (var run = 0; run < 2; run++)
        {
            var judged = await JudgeAsync(pools, vm.Uuid, target.SrUuid);
            GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, run, 2, 6 + run);
            pools.CollectGarbage();
            var next = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
            Assert.True(next.Status == RunStatus.Success, next.Error);
            AssertSameChoice(judged, next);
        }
    }

    [Fact]
    public async Task A_replica_written_since_its_restore_point_is_not_updated_in_place_by_either()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var first = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);

        // Someone wrote on the replica's disk (it stays halted): its restore point is still a base, the replica is not.
        GuestWorkload.Write(pools.TargetSim.Pool, first.Targets[0].TargetVmUuid!, 0, 1, 4);
        var judged = await JudgeAsync(pools, vm.Uuid, target.SrUuid);
        Assert.Null(judged["targetVm"]);
        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 2, 5);
        var next = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(next.Status == RunStatus.Success, next.Error);
        Assert.False(next.Full);
        Assert.NotEqual(first.Targets[0].TargetVmUuid, next.Targets[0].TargetVmUuid);
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, next);
    }

    [Fact]
    public async Task Xo_cr_seed_accepts_a_chain_we_made_and_both_rules_still_continue_it()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var first = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(first.Status == RunStatus.Success, first.Error);

        // The seed tool stamps our source snapshot and our replica (and its disks) for the same job and schedule.
        await Seeds.RunXoCrSeedAsync(pools.SourceSim.Url, first.SourceSnapshotUuid!, pools.TargetSim.Url, first.Targets[0].TargetVmUuid!,
            TwoPools.Job.JobId, TwoPools.Job.ScheduleId);
        var judged = await JudgeAsync(pools, vm.Uuid, target.SrUuid);
        GuestWorkload.Write(pools.SourceSim.Pool, vm.Uuid, 0, 3, 9);
        pools.CollectGarbage();
        var next = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(next.Status == RunStatus.Success, next.Error);
        Assert.False(next.Full);
        AssertSameChoice(judged, next);
        await ReplicationRunTests.AssertRestorePointEqualsSnapshotAsync(pools, next);
    }

    /// <summary>Every disk diffed against the base Xen Orchestra's rules picked, into the target VM they picked.</summary>
    private static void AssertSameChoice(JsonNode judged, RunResult run)
    {
        var bases = judged["bases"]!.AsObject();
        Assert.NotEmpty(run.Bases);
        Assert.All(run.Bases, b => Assert.NotNull(b.BaseSnapshotVdiUuid));
        Assert.Equal(bases.Select(p => (p.Key, (string?)p.Value!.GetValue<string>())).Order(),
            run.Bases.Select(b => (b.LiveVdiUuid, b.BaseSnapshotVdiUuid)).Order());
        Assert.Equal(judged["targetVm"]!.GetValue<string>(), run.Targets[0].TargetVmUuid);
    }

    private static async Task<JsonNode> JudgeAsync(TwoPools pools, string vmUuid, string srUuid)
    {
        var (code, stdout, stderr) = await NodeTool.RunAsync("xo-rules.mjs", TimeSpan.FromSeconds(90),
            $"http://root:password@{pools.SourceSim.Url.Authority}", $"http://root:password@{pools.TargetSim.Url.Authority}",
            TwoPools.Job.JobId, vmUuid, srUuid);
        Assert.True(code == 0, $"xo-rules.mjs exited {code}: {stdout}{stderr}");
        return JsonNode.Parse(stdout)!;
    }
}
