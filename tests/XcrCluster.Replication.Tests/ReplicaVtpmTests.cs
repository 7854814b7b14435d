using System.Text;
using XcrCluster.Domain;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.Replication.Tests;

/// <summary>Issue 15, settings that must act: the replica's vTPM follows the source's on every run (spec §2.10 step 6).</summary>
public sealed class ReplicaVtpmTests
{
    [Fact]
    public async Task The_replica_s_vtpm_follows_the_source_s_contents_and_goes_with_it()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var vtpm = SourceDb(pools, db => db.Create(Schemas.Vtpm, new Dictionary<string, object?>
        {
            ["VM"] = vm.Ref, ["is_unique"] = false, ["contents"] = Base64("tpm state 1"),
        }));
        var replica = await RunAsync(pools, target, vm, full: true);
        Assert.Equal([new SourceVtpm(false, Base64("tpm state 1"))], (await pools.Target.VtpmsAsync(replica)).Select(v => v.Vtpm));

        SourceDb(pools, db =>
        {
            db.Set(vtpm, "contents", Base64("tpm state 2"));
            return vtpm;
        });
        replica = await RunAsync(pools, target, vm, full: false);
        var held = Assert.Single(await pools.Target.VtpmsAsync(replica)); // one per VM: the old one went first
        Assert.Equal(new SourceVtpm(false, Base64("tpm state 2")), held.Vtpm);

        replica = await RunAsync(pools, target, vm, full: false);
        Assert.Equal(held.Ref, Assert.Single(await pools.Target.VtpmsAsync(replica)).Ref); // no change, nothing touched

        SourceDb(pools, db =>
        {
            db.Delete(vtpm);
            return vtpm;
        });
        replica = await RunAsync(pools, target, vm, full: false);
        Assert.Empty(await pools.Target.VtpmsAsync(replica));
    }

    /// <summary>The vTPM's replacement fails at each of its calls in turn: the run fails and is undone, the next converges.</summary>
    [Fact]
    public async Task A_vtpm_call_that_fails_undoes_the_run_and_the_next_run_converges()
    {
        await using var pools = await TwoPools.StartAsync();
        var vm = await pools.SourceVmAsync("tiny01");
        var target = await pools.TargetAsync();
        var vtpm = SourceDb(pools, db => db.Create(Schemas.Vtpm, new Dictionary<string, object?>
        {
            ["VM"] = vm.Ref, ["is_unique"] = false, ["contents"] = Base64("state 0"),
        }));
        await RunAsync(pools, target, vm, full: true);
        string[] methods = ["VTPM.destroy", "VTPM.create", "VTPM.set_contents"];
        for (var round = 0; round < methods.Length; round++)
        {
            var contents = Base64($"state {round + 1}");
            SourceDb(pools, db =>
            {
                db.Set(vtpm, "contents", contents);
                return vtpm;
            });
            pools.TargetSim.Pool.Faults.FailCall(methods[round]);
            var failed = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
            pools.TargetSim.Pool.Faults.Clear();
            Assert.True(failed.Status == RunStatus.Failed, $"{methods[round]}: {failed.Status}");
            await PoolInvariants.AssertCleanAsync(pools, vm.Uuid, vm.BlockedOperations);

            var replica = await RunAsync(pools, target, vm, full: false);
            Assert.Equal(new SourceVtpm(false, contents), Assert.Single(await pools.Target.VtpmsAsync(replica)).Vtpm);
        }
    }

    private static async Task<string> RunAsync(TwoPools pools, TargetSpec target, VmRecord vm, bool full)
    {
        pools.CollectGarbage();
        var report = await pools.Replication(new ReplicationSettings(), target).RunAsync(vm.Uuid);
        Assert.True(report.Status == RunStatus.Success, report.Error);
        Assert.Equal(full, report.Full);
        return await pools.Target.VmRefAsync(report.Targets[0].TargetVmUuid!);
    }

    /// <summary>A change on the source's vTPM, as if made while the VM was halted (XAPI's VTPM calls need that).</summary>
    private static XapiObject SourceDb(TwoPools pools, Func<XapiDatabase, XapiObject> change)
    {
        var db = pools.SourceSim.Pool.Db;
        lock (db.Sync)
        {
            return change(db);
        }
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
