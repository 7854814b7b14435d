using System.Text.Json.Nodes;
using XcrCluster.Domain;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr seed export` and `xcr seed import`: a job snapshot carried as VHD files makes a protected replica whose
/// restore point matches the snapshot, so the job's first run is a delta; an interrupted export resumes where it stopped;
/// every refusal changes nothing.</summary>
public sealed class OfflineSeedCommandTests : RecoveryTest
{
    /// <summary>In the node's data directory, which goes with the test.</summary>
    private string Seeds => Path.Combine(DataDir, "seeds");

    [Fact]
    public async Task Export_then_import_makes_a_protected_replica_and_the_first_run_is_a_delta_from_it()
    {
        var (jobId, vm, sr) = await JobAsync();
        var schedule = await ScheduleAsync(jobId);
        var dir = Path.Combine(Seeds, "tiny01");

        var exported = await SeedAsync("export", vm, "--job", jobId, "--to", dir);
        var snapshot = exported["vms"]![0]!["details"]!["snapshot"]!.GetValue<string>();
        var manifest = Manifest(dir);
        Assert.Equal(snapshot, manifest["snapshot"]!.GetValue<string>());
        Assert.Equal(schedule, manifest["schedule"]!.GetValue<string>());
        var stamped = Map(await VmAsync(Alpha, snapshot), "other_config");
        Assert.Equal(jobId, stamped[XoMetadata.Job]);
        Assert.Equal("true", stamped[XoMetadata.Exported]);

        var imported = await SeedAsync("import", dir, "--sr", sr, "--job", jobId, "--schedule", schedule);
        var outcome = imported["vms"]![0]!;
        Assert.Equal(vm, outcome["vm"]!.GetValue<string>());
        var replica = await VmAsync(Beta, outcome["result"]!.GetValue<string>());
        Assert.Equal("Halted", replica["power_state"]);
        Assert.Equal(XoMetadata.StartBlocked, Map(replica, "blocked_operations")["start"]);
        Assert.Contains(XoMetadata.ReplicaTag, ((List<object?>)replica["tags"]!).Cast<string>());
        Assert.Equal(sr, Map(replica, "other_config")[XoMetadata.Sr]);
        var point = await VmAsync(Beta, outcome["details"]!["restorePoint"]!.GetValue<string>());
        Assert.Equal(snapshot, Map(point, "other_config")[XoMetadata.CopyOf]);
        Assert.Equal(await Alpha.DiskChecksumsAsync(snapshot), await Beta.DiskChecksumsAsync((string)replica["uuid"]!));

        Assert.Contains($"seed-export {exported["id"]}: success", await OkAsync("run", "show", exported["id"]!.GetValue<string>()));
        var shown = await OkAsync("run", "show", imported["id"]!.GetValue<string>());
        Assert.Contains($"seed-import {imported["id"]}: success", shown);
        Assert.Contains("create the halted, protected replica and its restore point: success", shown);

        var first = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(first);
        Assert.Equal((string)replica["uuid"]!, first["targets"]![0]!["targetVmUuid"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_interrupted_export_resumes_and_fetches_again_only_the_disk_it_did_not_finish()
    {
        // web01's first disk exports 10 MiB, its second 8 MiB: the cut falls in the first, the second completes.
        var (jobId, vm, sr) = await JobAsync("web01");
        var dir = Path.Combine(Seeds, "web01");
        Alpha.Pool.Faults.ResetExportAfterBytes = 9L << 20;
        var cut = await XcrAsync("", "seed", "export", vm, "--job", jobId, "--to", dir);
        Assert.True(cut.Code == 1, cut.Stdout + cut.Stderr);
        Assert.Contains("the same command resumes", cut.Stderr);
        var manifest = Manifest(dir);
        var disks = manifest["disks"]!.AsArray().Select(d => d!).ToList();
        Assert.Equal(2, disks.Count);
        Assert.Null(disks[0]["sha256"]);
        Assert.NotNull(disks[1]["sha256"]);
        Assert.False(File.Exists(Path.Combine(dir, disks[0]["file"]!.GetValue<string>())));
        Assert.Empty(Directory.EnumerateFiles(dir, "*.partial"));
        var (unfinished, complete) = (disks[0]["snapshotVdi"]!.GetValue<string>(), disks[1]["snapshotVdi"]!.GetValue<string>());
        Assert.Equal(1, Alpha.Pool.Stats.OfVdi(complete).Requests);
        var completeBytes = Alpha.Pool.Stats.OfVdi(complete).Exported;
        Assert.Equal(completeBytes, disks[1]["fileSize"]!.GetValue<long>());

        Alpha.Pool.Faults.ResetExportAfterBytes = 0;
        var resumed = await SeedAsync("export", vm, "--job", jobId, "--to", dir);
        Assert.Equal(manifest["snapshot"]!.GetValue<string>(), resumed["vms"]![0]!["details"]!["snapshot"]!.GetValue<string>());
        Assert.Equal((1, completeBytes), Alpha.Pool.Stats.OfVdi(complete));
        Assert.Equal(2, Alpha.Pool.Stats.OfVdi(unfinished).Requests);
        Assert.Contains("is complete, kept", await OkAsync("run", "show", resumed["id"]!.GetValue<string>()));

        await SeedAsync("import", dir, "--sr", sr, "--job", jobId, "--schedule", await ScheduleAsync(jobId));
        await AssertDeltaEqualToSourceAsync(await RunAsync(jobId));
    }

    [Fact]
    public async Task A_resumed_export_whose_snapshot_was_removed_takes_a_new_one_and_exports_every_disk_again()
    {
        var (jobId, vm, sr) = await JobAsync();
        var dir = Path.Combine(Seeds, "tiny01");
        Alpha.Pool.Faults.ResetExportAfterBytes = 1L << 20;
        Assert.Equal(1, (await XcrAsync("", "seed", "export", vm, "--job", jobId, "--to", dir)).Code);
        var gone = Manifest(dir)["snapshot"]!.GetValue<string>();
        using (var rpc = Alpha.Json())
        {
            await rpc.LoginAsync(Alpha.Pool.Options.User, Alpha.Pool.Options.Password);
            await rpc.CallAsync("VM.destroy", (string)(await rpc.CallAsync("VM.get_by_uuid", gone))!);
        }

        Alpha.Pool.Faults.ResetExportAfterBytes = 0;
        var resumed = await SeedAsync("export", vm, "--job", jobId, "--to", dir);
        var snapshot = resumed["vms"]![0]!["details"]!["snapshot"]!.GetValue<string>();
        Assert.NotEqual(gone, snapshot);
        Assert.Equal(snapshot, Manifest(dir)["snapshot"]!.GetValue<string>());
        Assert.Contains($"snapshot {gone} of the previous export no longer exists",
            await OkAsync("run", "show", resumed["id"]!.GetValue<string>()));

        await SeedAsync("import", dir, "--sr", sr, "--job", jobId, "--schedule", await ScheduleAsync(jobId));
        var first = await RunAsync(jobId);
        await AssertDeltaEqualToSourceAsync(first);
    }

    [Fact]
    public async Task A_corrupted_or_truncated_file_refuses_the_import_and_changes_nothing()
    {
        var (jobId, vm, sr) = await JobAsync();
        var schedule = await ScheduleAsync(jobId);
        var dir = Path.Combine(Seeds, "tiny01");
        await SeedAsync("export", vm, "--job", jobId, "--to", dir);
        var file = Path.Combine(dir, Manifest(dir)["disks"]![0]!["file"]!.GetValue<string>());
        var original = await File.ReadAllBytesAsync(file);
        var before = await InventoryAsync(Beta);

        var corrupted = (byte[])original.Clone();
        corrupted[corrupted.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(file, corrupted);
        var refused = await XcrAsync("", "seed", "import", dir, "--sr", sr, "--job", jobId, "--schedule", schedule);
        Assert.True(refused.Code == 1, refused.Stdout + refused.Stderr);
        Assert.Contains("the SHA-256 of disk-", refused.Stderr);
        Assert.Equal(before, await InventoryAsync(Beta));

        await File.WriteAllBytesAsync(file, original[..^512]);
        var truncated = await XcrAsync("", "seed", "import", dir, "--sr", sr, "--job", jobId, "--schedule", schedule);
        Assert.Contains($"has {original.Length - 512} bytes, the manifest says {original.Length}", truncated.Stderr);
        Assert.Equal(before, await InventoryAsync(Beta));

        // Put back as exported, the same directory imports.
        await File.WriteAllBytesAsync(file, original);
        await SeedAsync("import", dir, "--sr", sr, "--job", jobId, "--schedule", schedule);
        Assert.NotEqual(before, await InventoryAsync(Beta));
    }

    [Fact]
    public async Task An_import_failing_at_its_commit_point_undoes_everything_it_made()
    {
        var (jobId, vm, sr) = await JobAsync();
        var schedule = await ScheduleAsync(jobId);
        var dir = Path.Combine(Seeds, "tiny01");
        await SeedAsync("export", vm, "--job", jobId, "--to", dir);
        var before = await InventoryAsync(Beta);

        // The replica, its VIFs and its imported disk exist when its VM.snapshot (the restore point) fails.
        Beta.Pool.Faults.FailCall("VM.snapshot");
        var (code, stdout, stderr) = await XcrAsync("", "seed", "import", dir, "--sr", sr, "--job", jobId, "--schedule", schedule);
        Assert.True(code == 1, stdout + stderr);
        Assert.Contains("INTERNAL_ERROR", stderr);
        Assert.Equal(before, await InventoryAsync(Beta));
        Assert.DoesNotContain(await Beta.AllRecordsAsync("VIF"), v => Map(v, "other_config").ContainsKey("xcr:importing"));

        await SeedAsync("import", dir, "--sr", sr, "--job", jobId, "--schedule", schedule);
        await AssertDeltaEqualToSourceAsync(await RunAsync(jobId));
    }

    [Fact]
    public async Task An_unknown_job_or_schedule_a_VM_outside_the_job_and_an_SR_outside_the_job_are_refused()
    {
        var (jobId, vm, sr) = await JobAsync();
        var schedule = await ScheduleAsync(jobId);
        var dir = Path.Combine(Seeds, "tiny01");
        var elsewhere = await Beta.UuidAsync("SR", "Second storage");
        var empty = Directory.CreateDirectory(Path.Combine(Seeds, "empty")).FullName;
        var used = Directory.CreateDirectory(Path.Combine(Seeds, "used")).FullName;
        await File.WriteAllTextAsync(Path.Combine(used, "notes.txt"), "not a seed");
        var before = (await InventoryAsync(Alpha), await InventoryAsync(Beta));
        var unknown = Guid.NewGuid().ToString();
        var cases = new (string[] Args, string Reason)[]
        {
            (["export", vm, "--job", unknown, "--to", dir], $"no job {unknown}"),
            (["export", vm, "--job", jobId, "--schedule", unknown, "--to", dir], $"has no schedule {unknown}"),
            (["export", await Alpha.UuidAsync("VM", "web01"), "--job", jobId, "--to", dir], "is not a VM of job"),
            (["export", vm, "--job", jobId, "--to", "relative/dir"], "must be an absolute path"),
            (["export", vm, "--job", jobId, "--to", used], "is not empty and holds no seed manifest"),
            (["import", empty, "--sr", sr, "--job", unknown, "--schedule", schedule], $"no job {unknown}"),
            (["import", empty, "--sr", sr, "--job", jobId, "--schedule", unknown], $"has no schedule {unknown}"),
            (["import", empty, "--sr", elsewhere, "--job", jobId, "--schedule", schedule], "is not a target of job"),
            (["import", empty, "--sr", sr, "--job", jobId, "--schedule", schedule], "holds no seed manifest"),
        };
        foreach (var (args, reason) in cases)
        {
            var (code, stdout, stderr) = await XcrAsync("", ["seed", .. args]);
            Assert.True(code == 1, $"{string.Join(' ', args)}: {stdout}{stderr}");
            Assert.Contains(reason, stderr);
        }

        Assert.Equal(before, (await InventoryAsync(Alpha), await InventoryAsync(Beta)));
        Assert.False(Directory.Exists(dir));

        // A seed imported once is refused a second time: the SR already holds the chain it starts.
        await SeedAsync("export", vm, "--job", jobId, "--to", dir);
        await SeedAsync("import", dir, "--sr", sr, "--job", jobId, "--schedule", schedule);
        var again = await XcrAsync("", "seed", "import", dir, "--sr", sr, "--job", jobId, "--schedule", schedule);
        Assert.Contains("already holds 1 restore points", again.Stderr);
    }

    private async Task<JsonNode> SeedAsync(params string[] args)
    {
        var (code, stdout, stderr) = await XcrAsync("", ["seed", .. args, "--json"]);
        Assert.True(code == 0, $"xcr seed {string.Join(' ', args)}: {stdout}{stderr}");
        var record = JsonNode.Parse(stdout)!;
        Assert.Equal("success", record["vms"]![0]!["status"]!.GetValue<string>());
        return record;
    }

    private async Task<string> ScheduleAsync(string jobId)
    {
        using var http = Http();
        return JsonNode.Parse(await http.GetStringAsync($"/api/jobs/{jobId}"))!["schedules"]![0]!["id"]!.GetValue<string>();
    }

    private static JsonNode Manifest(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!;
}
