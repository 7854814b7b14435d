using System.Text.Json.Nodes;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr failback`: only the blocks the started replica wrote go back (the simulators' counters), into the original
/// in place when it did not change, else into a new VM; --resume unblocks the original and the next run is a delta.</summary>
public sealed class FailbackTests : RecoveryTest
{
    private const long Block = 2 * 1024 * 1024;

    [Fact]
    public async Task After_a_planned_failover_only_the_replica_blocks_go_back_in_place_and_resume_makes_the_next_run_a_delta()
    {
        var (jobId, vm, _) = await JobAsync();
        await RunAsync(jobId);
        var failover = JsonNode.Parse(await OkAsync("failover", "planned", vm, "--json"))!;
        var replica = failover["vms"]![0]!["result"]!.GetValue<string>();
        var (_, written) = GuestWorkload.Write(Beta.Pool, replica, 0, 3, seed: 7);
        var before = await ManagedInventoryAsync(Beta);
        var (exported, imported) = (Beta.Pool.Stats.BytesExported("/export_raw_vdi"), Alpha.Pool.Stats.BytesImported("/import_raw_vdi"));

        var (code, stdout, stderr) = await XcrAsync("", "failback", vm, "--json");
        Assert.True(code == 0, stdout + stderr);
        var record = JsonNode.Parse(stdout)!;
        var outcome = record["vms"]![0]!;
        Assert.Equal("failback", record["kind"]!.GetValue<string>());
        Assert.Equal(vm, outcome["result"]!.GetValue<string>());
        Assert.Equal("in-place", outcome["details"]!["mode"]!.GetValue<string>());

        // Only the blocks written on the replica crossed: the VHD delta of exactly those blocks, read once and written once.
        Assert.Equal(written.Count.ToString(), outcome["details"]!["blocks"]!.GetValue<string>());
        var sent = long.Parse(outcome["details"]!["bytes"]!.GetValue<string>());
        Assert.Equal(sent, Alpha.Pool.Stats.BytesImported("/import_raw_vdi") - imported);
        Assert.InRange(sent, written.Count * Block, written.Count * (Block + 512) + 8192);
        Assert.InRange(Beta.Pool.Stats.BytesExported("/export_raw_vdi") - exported, sent, sent + 8192);
        Assert.Equal(await Beta.DiskChecksumsAsync(replica), await Alpha.DiskChecksumsAsync(vm));

        // The replica is as it was (its transfer snapshot gone), the original still blocked until --resume.
        // The snapshot's hidden base copy stays until the SR's garbage collector coalesces it, as on XAPI.
        Assert.Equal(before, await ManagedInventoryAsync(Beta));
        Assert.Equal("Running", (await VmAsync(Beta, replica))["power_state"]);
        Assert.Contains("start", Map(await VmAsync(Alpha, vm), "blocked_operations").Keys);
        Assert.Contains("--resume", (await XcrAsync("", "failback", vm)).Stderr);

        var resumed = JsonNode.Parse(await OkAsync("failback", vm, "--resume", "--json"))!["vms"]![0]!;
        Assert.Equal("true", resumed["details"]!["already"]!.GetValue<string>());
        Assert.Empty(Map(await VmAsync(Alpha, vm), "blocked_operations"));
        var resumeId = resumed.Parent!.Parent!["id"]!.GetValue<string>();
        Assert.Contains("unblock the source VM's start: success", await OkAsync("run", "show", resumeId));

        var next = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(next);
        Assert.NotEqual(replica, next["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
        Assert.Equal("Running", (await VmAsync(Beta, replica))["power_state"]);
    }

    [Fact]
    public async Task After_a_forced_failover_an_original_that_changed_gets_a_new_vm_with_the_replica_disks()
    {
        var (jobId, vm, _) = await JobAsync();
        var first = await RunAsync(jobId);
        var replica = first["targets"]![0]!["targetVmUuid"]!.GetValue<string>();
        await OkAsync("failover", "start", vm, "--force", "--yes");
        var (_, written) = GuestWorkload.Write(Beta.Pool, replica, 0, 2, seed: 8);
        GuestWorkload.Write(Alpha.Pool, vm, 0, 1, seed: 9); // the original site came back and wrote too
        var original = await Alpha.DiskChecksumsAsync(vm);

        // A transfer cut off: the new VM it made goes again and nothing is left on either pool.
        var before = (await ManagedInventoryAsync(Alpha), await ManagedInventoryAsync(Beta));
        Alpha.Pool.Faults.ResetImportAfterBytes = 1 << 20;
        var cut = await XcrAsync("", "failback", vm, "--resume");
        Assert.True(cut.Code == 1, cut.Stdout + cut.Stderr);
        Assert.Equal(before, (await ManagedInventoryAsync(Alpha), await ManagedInventoryAsync(Beta)));
        Alpha.Pool.Faults.Clear();

        var (code, stdout, stderr) = await XcrAsync("", "failback", vm, "--resume", "--json"); // failback and resume at once
        Assert.True(code == 0, stdout + stderr);
        var outcome = JsonNode.Parse(stdout)!["vms"]![0]!;
        Assert.Equal("new-vm", outcome["details"]!["mode"]!.GetValue<string>());
        Assert.Equal(written.Count.ToString(), outcome["details"]!["blocks"]!.GetValue<string>());
        var made = await VmAsync(Alpha, outcome["result"]!.GetValue<string>());
        Assert.Equal("Halted", made["power_state"]);
        Assert.False((bool)made["is_a_template"]!);
        Assert.DoesNotContain(Domain.XoMetadata.Job, Map(made, "other_config").Keys);
        Assert.Equal(await Beta.DiskChecksumsAsync(replica), await Alpha.DiskChecksumsAsync((string)made["uuid"]!));
        Assert.Equal(original, await Alpha.DiskChecksumsAsync(vm));
        var id = JsonNode.Parse(stdout)!["id"]!.GetValue<string>();
        Assert.Contains("unblock the source VM's start: success", await OkAsync("run", "show", id));

        // The original direction goes on from the original VM, as a delta; the started replica is left as it is.
        await AssertDeltaEqualToSourceAsync(await RunAsync(jobId));
        Assert.Equal("Running", (await VmAsync(Beta, replica))["power_state"]);
    }

    [Fact]
    public async Task An_in_place_failback_cut_off_after_one_disk_says_so_and_a_new_attempt_makes_a_new_vm_with_both_disks()
    {
        var (jobId, vm, _) = await JobAsync("web01");
        await RunAsync(jobId);
        var replica = JsonNode.Parse(await OkAsync("failover", "planned", vm, "--json"))!["vms"]![0]!["result"]!.GetValue<string>();
        GuestWorkload.Write(Beta.Pool, replica, 0, 1, seed: 11);
        GuestWorkload.Write(Beta.Pool, replica, 1, 3, seed: 12);
        Alpha.Pool.Faults.ResetImportAfterBytes = 4L << 20; // the first disk's delta (1 block) passes, the second's (3) not

        var cut = await XcrAsync("", "failback", vm);
        Assert.True(cut.Code == 1, cut.Stdout + cut.Stderr);
        Assert.Contains("disk(s) 0 of the original were written already", cut.Stderr);
        Alpha.Pool.Faults.Clear();

        var (code, stdout, stderr) = await XcrAsync("", "failback", vm, "--json");
        Assert.True(code == 0, stdout + stderr);
        var outcome = JsonNode.Parse(stdout)!["vms"]![0]!;
        Assert.Equal("new-vm", outcome["details"]!["mode"]!.GetValue<string>());
        Assert.Equal("4", outcome["details"]!["blocks"]!.GetValue<string>());
        Assert.Equal(await Beta.DiskChecksumsAsync(replica), await Alpha.DiskChecksumsAsync(outcome["result"]!.GetValue<string>()));
    }

    /// <summary>Every VM (power state, start block) and managed VDI of a pool.</summary>
    private static async Task<string> ManagedInventoryAsync(SimHost sim)
    {
        var vms = (await sim.AllRecordsAsync("VM")).Select(r => $"{r["uuid"]}:{r["power_state"]}:{Map(r, "blocked_operations").Count}");
        var vdis = (await sim.AllRecordsAsync("VDI")).Where(r => r["managed"] is true).Select(r => (string)r["uuid"]!);
        return string.Join(",", vms.Concat(vdis).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Refusals_name_the_reason_and_change_nothing()
    {
        var (jobId, vm, _) = await JobAsync();
        await RunAsync(jobId);
        var before = (await InventoryAsync(Alpha), await InventoryAsync(Beta));

        var cases = new (string[] Args, string Reason)[]
        {
            (["failback", vm], "has no started replica"),
            (["failback", await Alpha.UuidAsync("VM", "web01")], "no job replicates it"),
        };
        foreach (var (args, reason) in cases)
        {
            var (code, stdout, stderr) = await XcrAsync("", args);
            Assert.True(code == 1, $"{string.Join(' ', args)}: {stdout}{stderr}");
            Assert.Contains(reason, stderr);
        }

        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));
    }
}
