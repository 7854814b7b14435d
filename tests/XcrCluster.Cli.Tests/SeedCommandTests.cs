using System.Text.Json.Nodes;
using XcrCluster.Domain;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Cli.Tests;

/// <summary>The seed document's manual path end to end — a snapshot exported to an XVA file, imported on the target SR, linked
/// by `xcr seed` (or by the real xo-cr-seed) — then the job's first run is a delta updating the seed VM; every refusal changes
/// nothing on either pool.</summary>
public sealed class SeedCommandTests : SeedTest
{
    [Fact]
    public async Task Xcr_seed_links_an_xva_imported_snapshot_and_the_first_run_is_a_delta_that_updates_the_seed_vm()
    {
        var (jobId, vm, sr) = await JobAsync();
        var schedule = await ScheduleAsync(jobId);
        var snapshot = await SnapshotAsync(Alpha, vm, "manual seed");
        var seed = await ExportImportAsync(snapshot);
        Assert.Equal(await Alpha.DiskChecksumsAsync(snapshot), await Beta.DiskChecksumsAsync(seed));

        var (code, stdout, stderr) = await XcrAsync("", "seed", LoginUrl(Alpha), snapshot, LoginUrl(Beta), seed, jobId, schedule,
            "--json");
        Assert.True(code == 0, stdout + stderr);
        var record = JsonNode.Parse(stdout)!;
        var outcome = record["vms"]![0]!;
        Assert.Equal(vm, outcome["vm"]!.GetValue<string>());
        Assert.Equal(seed, outcome["result"]!.GetValue<string>());

        // The source snapshot: xo-cr-seed's keys on the VM, and on each disk too with its own content key.
        using (var alpha = await LoginAsync(Alpha))
        {
            var snapshotRef = (string)(await alpha.CallAsync("VM.get_by_uuid", snapshot))!;
            var datetime = (string)(await alpha.CallAsync("VM.get_snapshot_time", snapshotRef))!;
            var keys = new Dictionary<string, object?>
            {
                [XoMetadata.Datetime] = datetime, [XoMetadata.Job] = jobId, [XoMetadata.Schedule] = schedule, [XoMetadata.Vm] = vm,
                [XoMetadata.Exported] = "true", [XoMetadata.DeltaChainLength] = "0",
            };
            AssertHas(keys, await OtherConfigAsync(Alpha, "VM", snapshot));
            var sourceDisks = await DisksAsync(Alpha, snapshot);
            foreach (var disk in sourceDisks.Values)
            {
                AssertHas(new Dictionary<string, object?>(keys) { [XoMetadata.ContentKey] = disk },
                    await OtherConfigAsync(Alpha, "VDI", disk));
            }

            // The seed VM: xo-cr-seed's name, keys and start blocks; each disk a copy of the snapshot's at its userdevice.
            var live = await VmAsync(Beta, seed);
            Assert.Equal($"tiny01 ({datetime})", live["name_label"]);
            Assert.False((bool)live["is_a_template"]!); // the XVA of a snapshot imports as a template
            AssertHas(new Dictionary<string, object?>
            {
                [XoMetadata.Datetime] = datetime, [XoMetadata.Job] = jobId, [XoMetadata.Schedule] = schedule, [XoMetadata.Vm] = vm,
                [XoMetadata.Sr] = sr, [XoMetadata.CopyOf] = snapshot,
            }, Map(live, "other_config"));
            Assert.Equal(XoMetadata.StartBlocked, Map(live, "blocked_operations")["start"]);
            Assert.Equal(XoMetadata.StartBlocked, Map(live, "blocked_operations")["start_on"]);
            var seedDisks = await DisksAsync(Beta, seed);
            Assert.Equal(sourceDisks.Keys.Order(), seedDisks.Keys.Order());
            foreach (var (userdevice, disk) in seedDisks)
            {
                Assert.Equal(sourceDisks[userdevice], (await OtherConfigAsync(Beta, "VDI", disk))[XoMetadata.CopyOf]);
            }

            // Its restore point, as current Xen Orchestra finds a base: disks with copy_of and contentKey of the snapshot's.
            var point = await VmAsync(Beta, outcome["details"]!["restorePoint"]!.GetValue<string>());
            Assert.True((bool)point["is_a_snapshot"]!);
            AssertHas(new Dictionary<string, object?> { [XoMetadata.Job] = jobId, [XoMetadata.Sr] = sr, [XoMetadata.CopyOf] = snapshot },
                Map(point, "other_config"));
            foreach (var (userdevice, disk) in await DisksAsync(Beta, (string)point["uuid"]!))
            {
                AssertHas(new Dictionary<string, object?>
                {
                    [XoMetadata.CopyOf] = sourceDisks[userdevice], [XoMetadata.ContentKey] = sourceDisks[userdevice],
                    [XoMetadata.Job] = jobId,
                    [XoMetadata.Schedule] = schedule, [XoMetadata.Vm] = vm, [XoMetadata.Sr] = sr, [XoMetadata.Datetime] = datetime,
                }, await OtherConfigAsync(Beta, "VDI", disk));
            }
        }

        var shown = await OkAsync("run", "show", record["id"]!.GetValue<string>());
        Assert.Contains($"seed {record["id"]}: success", shown);
        Assert.Contains("alpha: mark snapshot", shown);
        Assert.Contains("beta: take the seed's restore point", shown);

        GuestWorkload.Write(Alpha.Pool, vm, 0, 2, 8);
        var first = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(first);
        Assert.Equal(seed, first["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_real_xo_cr_seed_on_an_xva_imported_snapshot_leads_to_a_delta_first_run()
    {
        var (jobId, vm, _) = await JobAsync();
        var schedule = await ScheduleAsync(jobId);
        var snapshot = await SnapshotAsync(Alpha, vm, "manual seed");
        var seed = await ExportImportAsync(snapshot);
        Assert.Equal(await Alpha.DiskChecksumsAsync(snapshot), await Beta.DiskChecksumsAsync(seed));
        await Seeds.RunXoCrSeedAsync(Alpha.Url, snapshot, Beta.Url, seed, jobId, schedule, Alpha.Pool.Options.User, Password);

        GuestWorkload.Write(Alpha.Pool, vm, 0, 2, 8);
        var first = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(first);
        Assert.Equal(seed, first["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refusals_name_the_reason_and_change_nothing_on_either_pool()
    {
        var (jobId, vm, _) = await JobAsync();
        var schedule = await ScheduleAsync(jobId);
        var snapshot = await SnapshotAsync(Alpha, vm, "manual seed");
        var seed = await ExportImportAsync(snapshot);
        var otherVm = await SnapshotAsync(Alpha, await Alpha.UuidAsync("VM", "web01"), "not a VM of the job");
        var size = Convert.ToInt64((await VmDiskAsync(Beta, seed))["virtual_size"], System.Globalization.CultureInfo.InvariantCulture);
        var bigger = await HandMadeVmAsync(Beta, "Local storage", size + (1 << 20));
        var elsewhere = await HandMadeVmAsync(Beta, "Second storage", size);
        var running = await Beta.UuidAsync("VM", "tiny01");
        var before = (await StateAsync(Alpha), await StateAsync(Beta));

        var cases = new (string[] Args, string Reason)[]
        {
            (["seed", "alpha", otherVm, "beta", seed, jobId, schedule], "which is not a VM of job"),
            (["seed", "alpha", snapshot, "beta", bigger, jobId, schedule], "paired disks must have the same virtual size"),
            (["seed", "alpha", snapshot, "beta", running, jobId, schedule], "is running: a seed VM must be halted"),
            (["seed", "alpha", snapshot, "beta", seed, Guid.NewGuid().ToString(), schedule], "no job"),
            (["seed", "alpha", snapshot, "beta", seed, jobId, "no-such-schedule"], "has no schedule no-such-schedule"),
            (["seed", "alpha", snapshot, "beta", elsewhere, jobId, schedule], "which is not a target of job"),
            (["seed", "alpha", vm, "beta", seed, jobId, schedule], "is not a snapshot"),
            (["seed", "alpha", Guid.NewGuid().ToString(), "beta", seed, jobId, schedule], "pool alpha has no VM or snapshot"),
            (["seed", "http://127.0.0.1:9/", snapshot, "beta", seed, jobId, schedule], "register the pool first"),

            // The URL's credentials, not the registered ones, log in.
            (["seed", $"http://root:wrong@{Alpha.Url.Authority}", snapshot, "beta", seed, jobId, schedule],
                "SESSION_AUTHENTICATION_FAILED"),
        };
        foreach (var (args, reason) in cases)
        {
            var (code, stdout, stderr) = await XcrAsync("", args);
            Assert.True(code == 1, $"{string.Join(' ', args)}: {stdout}{stderr}");
            Assert.Contains(reason, stderr);
        }

        AssertSame(before, (await StateAsync(Alpha), await StateAsync(Beta)));

        // The same seed by pool names goes through.
        Assert.Contains("seed recovery-", await OkAsync("seed", "alpha", snapshot, "beta", seed, jobId, schedule));
    }

    [Fact]
    public async Task A_seed_failing_after_its_restore_point_was_made_puts_both_pools_back_as_they_were()
    {
        var (jobId, vm, _) = await JobAsync();
        var schedule = await ScheduleAsync(jobId);
        var snapshot = await SnapshotAsync(Alpha, vm, "manual seed");
        var seed = await ExportImportAsync(snapshot);
        var before = (await StateAsync(Alpha), await StateAsync(Beta));

        // Beta's 7th VM.add_to_other_config from now is the first on the new restore point (6 keys go on the seed VM before).
        Beta.Pool.Faults.FailCall("VM.add_to_other_config", nth: 7);
        var (code, stdout, stderr) = await XcrAsync("", "seed", "alpha", snapshot, "beta", seed, jobId, schedule);
        Assert.True(code == 1, stdout + stderr);
        Assert.Contains("INTERNAL_ERROR", stderr);
        Assert.Empty(Beta.Pool.Faults.FailCalls);
        var id = System.Text.RegularExpressions.Regex.Match(stderr, @"seed (recovery-[0-9T]+-[0-9a-f]+)").Groups[1].Value;
        var shown = await OkAsync("run", "show", id);

        // The undone snapshot left the seed's disk on a base copy, which the SR's garbage collector coalesces (paused in tests).
        Beta.Pool.Collector.RunOnce();
        AssertSame(before, (await StateAsync(Alpha), await StateAsync(Beta)));
        Assert.Contains("beta: destroy the seed's restore point: success", shown);
        Assert.Contains("alpha: put back the metadata of snapshot", shown);

        // Nothing is left in the way: the same seed goes through, and the first run is a delta.
        await OkAsync("seed", "alpha", snapshot, "beta", seed, jobId, schedule);
        await AssertDeltaEqualToSourceAsync(await RunAsync(jobId));
    }

    /// <summary>Both pools' states equal, the lines that differ shown when not.</summary>
    private static void AssertSame((string Alpha, string Beta) expected, (string Alpha, string Beta) actual)
    {
        foreach (var (want, got) in new[] { (expected.Alpha, actual.Alpha), (expected.Beta, actual.Beta) })
        {
            var (a, b) = (want.Split('\n'), got.Split('\n'));
            Assert.True(want == got, $"gone: {string.Join(" | ", a.Except(b))}; new: {string.Join(" | ", b.Except(a))}");
        }
    }

    private static void AssertHas(Dictionary<string, object?> expected, Dictionary<string, object?> actual)
    {
        foreach (var (key, value) in expected)
        {
            Assert.True(actual.TryGetValue(key, out var found) && Equals(found, value),
                $"{key}: expected {value}, found {found ?? "nothing"}");
        }
    }

    private static async Task<Dictionary<string, object?>> VmDiskAsync(SimHost sim, string vmUuid)
    {
        var disk = (await DisksAsync(sim, vmUuid))["0"];
        return (await sim.AllRecordsAsync("VDI")).Single(v => (string)v["uuid"]! == disk);
    }

    /// <summary>A halted VM with one empty disk of <paramref name="size"/> bytes at userdevice 0 on the SR named.</summary>
    private static async Task<string> HandMadeVmAsync(SimHost sim, string srName, long size)
    {
        using var rpc = await LoginAsync(sim);
        var vm = (string)(await rpc.CallAsync("VM.create", new Dictionary<string, object?>
        {
            ["name_label"] = "hand-made", ["memory_static_max"] = 1L << 30, ["memory_dynamic_max"] = 1L << 30, ["VCPUs_max"] = 1L,
            ["VCPUs_at_startup"] = 1L, ["is_a_template"] = false,
        }))!;
        var vdi = (string)(await rpc.CallAsync("VDI.create", new Dictionary<string, object?>
        {
            ["SR"] = (string)(await rpc.CallAsync("SR.get_by_uuid", await sim.UuidAsync("SR", srName)))!, ["virtual_size"] = size,
            ["name_label"] = "hand-made disk", ["type"] = "user", ["sharable"] = false, ["read_only"] = false,
            ["other_config"] = new Dictionary<string, object?>(),
        }))!;
        await rpc.CallAsync("VBD.create", new Dictionary<string, object?>
        {
            ["VM"] = vm, ["VDI"] = vdi, ["userdevice"] = "0", ["type"] = "Disk", ["mode"] = "RW", ["bootable"] = true, ["empty"] = false,
            ["other_config"] = new Dictionary<string, object?>(),
        });
        return (string)(await rpc.CallAsync("VM.get_uuid", vm))!;
    }
}
