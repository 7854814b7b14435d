namespace XcrCluster.Xapi.Tests;

/// <summary>Map fields written entry by entry: what the map already holds as wanted costs no call.</summary>
public sealed class MapEntriesTests
{
    [Fact]
    public async Task Entries_already_as_wanted_are_not_written_and_the_others_are()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        var vm = ((List<object?>)(await client.CallAsync("VM.get_by_name_label", "db01"))!).Cast<string>().Single();
        await client.SetMapEntriesAsync("VM", vm, "other_config",
            new Dictionary<string, string?> { ["same"] = "1", ["changed"] = "old", ["gone"] = "x" });
        var before = sim.Pool.Stats.CallCounts();

        await client.SetMapEntriesAsync("VM", vm, "other_config",
            new Dictionary<string, string?> { ["same"] = "1", ["changed"] = "new", ["gone"] = null, ["absent"] = null, ["fresh"] = "2" });
        var calls = sim.Pool.Stats.CallCounts();

        var map = (Dictionary<string, object?>)(await client.CallAsync("VM.get_other_config", vm))!;
        Assert.Equal("1", map["same"]);
        Assert.Equal("new", map["changed"]);
        Assert.False(map.ContainsKey("gone"));
        Assert.Equal("2", map["fresh"]);
        long Made(string method) => calls.GetValueOrDefault(method) - before.GetValueOrDefault(method);
        Assert.Equal(1, Made("VM.get_other_config"));
        Assert.Equal(2, Made("VM.remove_from_other_config")); // "changed" and "gone"; neither "same" nor "absent" nor "fresh"
        Assert.Equal(2, Made("VM.add_to_other_config")); // "changed" and "fresh", which the map did not hold: no remove first
    }

    [Fact]
    public async Task A_key_someone_added_since_the_read_is_removed_then_added()
    {
        await using var sim = await ClientPools.StartAsync();
        await using var client = await ClientPools.ConnectAsync(sim);
        var vm = ((List<object?>)(await client.CallAsync("VM.get_by_name_label", "db01"))!).Cast<string>().Single();

        // The add of a key the read did not show fails as XAPI's would if another session had added it in between.
        sim.Pool.Faults.FailCall("VM.add_to_other_config", 1, "MAP_DUPLICATE_KEY", "other_config", "raced");
        await client.SetMapEntriesAsync("VM", vm, "other_config", new Dictionary<string, string?> { ["raced"] = "ours", ["b"] = "1" });

        var map = (Dictionary<string, object?>)(await client.CallAsync("VM.get_other_config", vm))!;
        Assert.Equal("ours", map["raced"]);
        Assert.Equal("1", map["b"]);
        Assert.Equal(1, sim.Pool.Stats.CallCounts()["VM.remove_from_other_config"]);
    }
}
