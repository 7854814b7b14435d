using System.Net.Http.Json;
using System.Text.Json;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The guest writer's continuous mode: started by `xcr-xapi-sim guest-write --mb-per-second`, it keeps changing every
/// disk of the VM (a snapshot taken meanwhile stays as it was) until `--stop`, after which nothing changes.</summary>
public sealed class GuestStreamTests
{
    [Fact]
    public void The_pace_is_whole_blocks_at_the_rate_asked()
    {
        const int block = 2 << 20;
        Assert.Equal(0, GuestStreams.BlocksDue(10_000_000, TimeSpan.Zero, block));
        Assert.Equal(4, GuestStreams.BlocksDue(10_000_000, TimeSpan.FromSeconds(1), block));
        Assert.Equal(47, GuestStreams.BlocksDue(10_000_000, TimeSpan.FromSeconds(10), block));
    }

    [Fact]
    public async Task A_continuous_writer_changes_every_disk_until_stopped_and_a_snapshot_taken_meanwhile_stays_as_it_was()
    {
        await using var sim = await SimHost.StartAsync();
        var vm = await sim.UuidAsync("VM", "web01");
        var before = await sim.DiskChecksumsAsync(vm);
        var url = sim.Url.ToString();
        Assert.Equal(0, await GuestCommands.RunAsync("guest-write", ["--url", url, "--vm", vm, "--mb-per-second", "40", "--seed", "5"]));

        // Two disks written in turn: both change.
        List<string> now = [];
        await Poll.UntilAsync(async () => (now = await sim.DiskChecksumsAsync(vm)).Zip(before).All(p => p.First != p.Second),
            "both disks written");
        using var rpc = sim.Json();
        await rpc.LoginAsync(sim.Pool.Options.User, sim.Pool.Options.Password);
        var snapshot = (string)(await rpc.CallAsync("VM.snapshot", (string)(await rpc.CallAsync("VM.get_by_uuid", vm))!, "mid-write"))!;
        var snapshotUuid = (string)(await rpc.RecordAsync("VM", snapshot))["uuid"]!;
        var frozen = await sim.DiskChecksumsAsync(snapshotUuid);
        await Poll.UntilAsync(async () => (await sim.DiskChecksumsAsync(vm)).Zip(frozen).All(p => p.First != p.Second),
            "the VM's disks written again after the snapshot");
        Assert.Equal(frozen, await sim.DiskChecksumsAsync(snapshotUuid));

        using var http = new HttpClient { BaseAddress = sim.Url };
        var running = (await http.GetFromJsonAsync<JsonElement>("/sim/guest-write/continuous")).EnumerateArray().Single();
        Assert.True(running.GetProperty("running").GetBoolean());
        Assert.Equal(40_000_000, running.GetProperty("bytesPerSecond").GetInt64());
        Assert.Equal(0, await GuestCommands.RunAsync("guest-write", ["--url", url, "--vm", vm, "--stop"]));
        var stopped = await sim.DiskChecksumsAsync(vm);
        Assert.Empty((await http.GetFromJsonAsync<JsonElement>("/sim/guest-write/continuous")).EnumerateArray());
        Assert.Equal(stopped, await sim.DiskChecksumsAsync(vm));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.DeleteAsync($"/sim/guest-write/continuous?vm={vm}")).StatusCode);
        Assert.Equal(2, await GuestCommands.RunAsync("guest-write", ["--url", url, "--vm", vm, "--mb-per-second", "0"]));
    }
}
