using XcrCluster.Xapi.Mirror;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

/// <summary>The live mirror of a pool against the simulator: the load, events, the barrier, a stream that dies.</summary>
public sealed class PoolMirrorTests
{
    private static readonly PoolMirrorOptions Quick = new()
    {
        ReloadDelay = TimeSpan.FromMilliseconds(20), EventTimeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task Loads_every_class_once_and_then_follows_events_only()
    {
        await using var opened = await OpenAsync();
        var (sim, client, mirror) = opened;

        var vms = await mirror.AllAsync<VmRecord>();
        Assert.Equal(["db01", "tiny01", "web01"], vms.Where(v => !v.IsASnapshot && !v.IsControlDomain && !v.IsATemplate)
            .Select(v => v.NameLabel).Order(StringComparer.Ordinal));
        Assert.Equal((await client.GetAllRecordsAsync<SrRecord>()).Select(s => s.Uuid).Order(),
            (await mirror.AllAsync<SrRecord>()).Select(s => s.Uuid).Order());
        Assert.Single(await mirror.AllAsync<PoolRecord>());
        for (var i = 0; i < 3; i++)
        {
            await client.CallAsync("task.create", $"t{i}", "");
            await mirror.BarrierAsync(client);
        }

        var calls = sim.Pool.Stats.CallCounts();
        Assert.All(calls.Where(c => c.Key.EndsWith(".get_all_records", StringComparison.Ordinal) && c.Key != "SR.get_all_records"),
            c => Assert.Equal(1, c.Value));
        Assert.Equal(1, mirror.Loads);
    }

    [Fact]
    public async Task Adds_changes_and_removals_are_seen_after_a_barrier_including_reverse_sets()
    {
        await using var opened = await OpenAsync();
        var (sim, client, mirror) = opened;
        var db01 = (await mirror.AllAsync<VmRecord>()).Single(v => v.NameLabel == "db01" && !v.IsASnapshot);
        var disk = (await mirror.AllAsync<VbdRecord>()).First(b => b.Vm == db01.Ref && b.IsDisk);

        await client.CallAsync("VM.set_name_label", db01.Ref, "db01-renamed");
        var vbd = (string)(await client.CallAsync("VBD.create", new Dictionary<string, object?>
        {
            ["VM"] = db01.Ref, ["VDI"] = disk.Vdi, ["userdevice"] = "7", ["bootable"] = false, ["mode"] = "RO", ["type"] = "Disk",
            ["empty"] = false, ["other_config"] = new Dictionary<string, object?>(),
        }))!;
        await mirror.BarrierAsync(client);
        var vm = await mirror.FindAsync<VmRecord>(db01.Ref);
        Assert.Equal("db01-renamed", vm!.NameLabel);
        Assert.Contains(vbd, vm.Vbds);
        Assert.Equal("7", (await mirror.FindAsync<VbdRecord>(vbd))!.Userdevice);
        Assert.Contains(vbd, (await mirror.FindAsync<VdiRecord>(disk.Vdi))!.Vbds);

        await client.CallAsync("VBD.destroy", vbd);
        await mirror.BarrierAsync(client);
        Assert.Null(await mirror.FindAsync<VbdRecord>(vbd));
        Assert.DoesNotContain(vbd, (await mirror.FindAsync<VmRecord>(db01.Ref))!.Vbds);
        Assert.Equal(1, mirror.Loads);
    }

    [Fact]
    public async Task A_whole_class_is_listed_once_per_view_and_a_change_gives_a_new_list()
    {
        await using var opened = await OpenAsync();
        var (_, client, mirror) = opened;
        var before = await mirror.AllAsync<VmRecord>();
        Assert.Same(before, await mirror.AllAsync<VmRecord>()); // the same view: no second walk of the class
        await client.CallAsync("task.create", "elsewhere", "");
        await mirror.BarrierAsync(client);
        Assert.Same(before, await mirror.AllAsync<VmRecord>()); // a batch that touched no VM keeps the VMs' list
        var db01 = before.Single(v => v.NameLabel == "db01" && !v.IsASnapshot);

        await client.CallAsync("VM.set_name_label", db01.Ref, "db01-renamed");
        await mirror.BarrierAsync(client);
        var after = await mirror.AllAsync<VmRecord>();
        Assert.NotSame(before, after);
        Assert.Equal("db01-renamed", after.Single(v => v.Ref == db01.Ref).NameLabel);
        Assert.Equal("db01", before.Single(v => v.Ref == db01.Ref).NameLabel); // a list handed out never changes
    }

    [Fact]
    public async Task An_index_is_built_once_then_kept_change_by_change_and_matches_one_built_from_the_pool()
    {
        await using var opened = await OpenAsync();
        var (_, client, mirror) = opened;
        var halted = (await mirror.AllAsync<VmRecord>())
            .First(v => v is { IsASnapshot: false, IsControlDomain: false, PowerState: "Halted" });
        for (var i = 0; i < 8; i++)
        {
            await client.CallAsync("VM.clone", halted.Ref, $"clone{i}");
        }

        var loose = (string)(await client.CallAsync("VDI.create", new Dictionary<string, object?>
        {
            ["SR"] = (await mirror.AllAsync<VdiRecord>()).First().Sr, ["virtual_size"] = 1L << 20, ["name_label"] = "loose",
            ["type"] = "user", ["sharable"] = false, ["read_only"] = false, ["other_config"] = new Dictionary<string, object?>(),
        }))!;

        await mirror.BarrierAsync(client);
        var index = new CountingIndex();
        var vms = await mirror.SetAsync<VmRecord>(index);
        var db01 = Assert.Single(vms.Where("name:db01"), v => !v.IsASnapshot);
        var built = index.VmCalls;
        Assert.InRange(built, Math.Max(12, (await client.GetAllRecordsAsync<VmRecord>()).Count), 1000);

        await client.CallAsync("VM.set_name_label", db01.Ref, "db01-renamed");
        await client.CallAsync("VDI.destroy", loose);
        await mirror.BarrierAsync(client);
        vms = await mirror.SetAsync<VmRecord>(index);
        var vdis = await mirror.SetAsync<VdiRecord>(index);

        // The renamed VM costs its keys before and after (and a VM the destroy touched, the same), not a walk of every VM.
        Assert.InRange(index.VmCalls - built, 2, 4);
        Assert.Equal(db01.Ref, Assert.Single(vms.Where("name:db01-renamed")).Ref);
        Assert.DoesNotContain(vms.Where("name:db01"), v => v.Ref == db01.Ref);
        Assert.Null(vdis.Find(loose));
        Assert.Empty(vdis.Where("name:loose"));
        await AssertSameAsync(vms, client, index, v => v.NameLabel);
        await AssertSameAsync(vdis, client, index, v => v.NameLabel);
    }

    /// <summary>Every key of the pool's records finds the same refs in the kept set as in one built from the pool.</summary>
    private static async Task AssertSameAsync<T>(RecordSet<T> kept, XapiClient client, IRecordIndex index, Func<T, string> name)
        where T : class, IXapiRecord<T>
    {
        var records = await client.GetAllRecordsAsync<T>();
        var fresh = RecordSet<T>.From(records.Select(r => (r.Ref, r)), index);
        foreach (var key in records.Select(r => "name:" + name(r)).Distinct())
        {
            Assert.Equal(fresh.Where(key).Select(r => r.Ref).Order(), kept.Where(key).Select(r => r.Ref).Order());
        }
    }

    /// <summary>Finds VMs and disks by name; counts how often it is asked for a VM's keys.</summary>
    private sealed class CountingIndex : IRecordIndex
    {
        private int vmCalls;

        public int VmCalls => Volatile.Read(ref vmCalls);

        public IEnumerable<string> Keys(object record)
        {
            if (record is VmRecord)
            {
                Interlocked.Increment(ref vmCalls);
            }

            return record switch
            {
                VmRecord vm => ["name:" + vm.NameLabel],
                VdiRecord vdi => ["name:" + vdi.NameLabel],
                _ => [],
            };
        }
    }

    [Fact]
    public async Task A_failed_event_stream_is_reloaded_and_readers_see_the_pool_as_it_is_then()
    {
        var log = new List<string>();
        await using var opened = await OpenAsync(Quick with { Log = l => { lock (log) { log.Add(l); } } });
        var (sim, client, mirror) = opened;
        var tiny = (await mirror.AllAsync<VmRecord>()).Single(v => v.NameLabel == "tiny01" && !v.IsASnapshot);

        // The held event.from returns with the rename; the next one fails as a pool that lost the events does.
        sim.Pool.Faults.FailCall("event.from", 1, "EVENTS_LOST");
        await client.CallAsync("VM.set_name_label", tiny.Ref, "tiny01-a");
        await client.CallAsync("VM.set_name_label", tiny.Ref, "tiny01-b");
        await mirror.BarrierAsync(client);

        Assert.Equal(2, mirror.Loads);
        Assert.Equal("tiny01-b", (await mirror.FindAsync<VmRecord>(tiny.Ref))!.NameLabel);
        lock (log)
        {
            Assert.Contains(log, l => l.Contains("EVENTS_LOST", StringComparison.Ordinal));
        }

        // And it follows events again from the reload.
        await client.CallAsync("VM.set_name_label", tiny.Ref, "tiny01-c");
        await mirror.BarrierAsync(client);
        Assert.Equal("tiny01-c", (await mirror.FindAsync<VmRecord>(tiny.Ref))!.NameLabel);
        Assert.Equal(2, mirror.Loads);
    }

    [Fact]
    public async Task Readers_wait_for_the_load_and_a_mirror_that_cannot_load_times_out()
    {
        await using var sim = await ClientPools.StartAsync();
        sim.Pool.Faults.FailCall("VM.get_all_records", 1);
        await using var mirror = new PoolMirror(ClientPools.Endpoint(sim), Quick).Start();
        Assert.NotEmpty(await mirror.AllAsync<VmRecord>());
        Assert.Equal(1, mirror.Loads);

        var gone = XapiEndpoint.Parse($"http://root:x@127.0.0.1:1");
        await using var dead = new PoolMirror(gone, Quick with { ReadyTimeout = TimeSpan.FromMilliseconds(300) }).Start();
        await Assert.ThrowsAsync<TimeoutException>(() => dead.AllAsync<VmRecord>());
        Assert.False(dead.IsReady);
    }

    [Fact]
    public async Task Dispose_stops_the_loop()
    {
        await using var opened = await OpenAsync();
        var (sim, client, mirror) = opened;
        await mirror.DisposeAsync();
        Assert.False(mirror.IsReady);
        var before = sim.Pool.Stats.CallCounts().GetValueOrDefault("event.from");
        await client.CallAsync("task.create", "after", "");
        await client.GetAllRecordsAsync<TaskRecord>();
        Assert.Equal(before, sim.Pool.Stats.CallCounts().GetValueOrDefault("event.from"));
    }

    [Fact]
    public async Task After_a_master_change_the_reloaded_mirror_follows_the_new_master()
    {
        await using var opened = await OpenAsync(configure: o => o with { Listen = ["127.0.0.1:0", "127.0.0.2:0"] });
        var (sim, _, mirror) = opened;
        Assert.Equal("127.0.0.1", mirror.Master!.Url.Host);

        // What Pool.designate_new_master leaves (the simulator has no such call): the pool names the other host as its
        // master; the old master's sessions end, so the stream fails and the next login there is told HOST_IS_SLAVE.
        var second = (await mirror.AllAsync<HostRecord>()).Single(h => h.Address == "127.0.0.2");
        lock (sim.Pool.Db.Sync)
        {
            sim.Pool.Db.Set(sim.Pool.PoolRow, "master", second.Ref);
        }

        sim.Pool.Faults.EventStreams.KillAll();
        await using var moved = await ClientPools.ConnectAsync(sim);
        Assert.Equal("127.0.0.2", moved.Endpoint.Url.Host);
        await moved.CallAsync("task.create", "after the move", "");
        await mirror.BarrierAsync(moved);
        Assert.Equal("127.0.0.2", mirror.Master!.Url.Host);
        Assert.Equal(2, mirror.Loads);
        Assert.Contains(await mirror.AllAsync<TaskRecord>(), t => t.NameLabel == "after the move");
    }

    /// <summary>A pool, a session on it and its mirror, loaded.</summary>
    private static async Task<Opened> OpenAsync(PoolMirrorOptions? options = null,
        Func<XapiSim.SimOptions, XapiSim.SimOptions>? configure = null)
    {
        var sim = await ClientPools.StartAsync(configure);
        var client = await ClientPools.ConnectAsync(sim);
        var mirror = new PoolMirror(ClientPools.Endpoint(sim), options ?? Quick).Start();
        await mirror.BarrierAsync(client);
        return new Opened(sim, client, mirror);
    }

    private sealed record Opened(SimHost Sim, XapiClient Client, PoolMirror Mirror) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Mirror.DisposeAsync();
            await Client.DisposeAsync();
            await Sim.DisposeAsync();
        }
    }
}
