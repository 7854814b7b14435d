using System.Text;
using System.Text.Json;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The database on disk: a change appends only its rows, a restart restores every record, a torn last
/// log line is dropped, and compaction folds the log into the snapshot without losing anything.</summary>
public sealed class PersistenceTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("xcr-state-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void One_change_appends_as_many_bytes_in_a_pool_of_2000_vms_as_in_one_of_20()
    {
        var small = AppendedByOneChange(20);
        var large = AppendedByOneChange(2000);
        Assert.InRange(small, 100, 16 << 10);

        // Only the generation and counters' digits may differ.
        Assert.InRange(large, small - 16, small + 16);
    }

    [Fact]
    public void A_restart_restores_every_record_and_the_generation_goes_on()
    {
        var path = Path.Combine(dir, "pool");
        Dictionary<string, string> before;
        long generation;
        using (var pool = NewPool(path, vms: 5))
        {
            lock (pool.Db.Sync)
            {
                Mutate(pool.Db);
                pool.Store.Save(pool.Db);
                pool.Store.Compact(pool.Db);

                // After the snapshot: changes only the log holds, and a task, which is never kept.
                var vm = pool.Db.All(Schemas.Vm).First(v => v.Str("name_label") == "gen-00004");
                pool.Db.Set(vm, "tags", new List<object?> { "after-compaction" });
                pool.Db.Delete(pool.Db.All(Schemas.Vm).First(v => v.Str("name_label") == "gen-00005"));
                pool.Db.Create(Schemas.Task, new Dictionary<string, object?> { ["name_label"] = "not kept" });
                pool.Store.Save(pool.Db);
                before = Snapshot(pool.Db);
                generation = pool.Db.Generation;
            }
        }

        using var restarted = NewPool(path, vms: 5);
        lock (restarted.Db.Sync)
        {
            Assert.Equal(before, Snapshot(restarted.Db));
            Assert.True(restarted.Db.Generation >= generation, $"generation {restarted.Db.Generation} went back from {generation}");
            Assert.Empty(restarted.Db.All(Schemas.Task));
        }
    }

    [Fact]
    public void A_torn_last_line_is_dropped_and_the_log_goes_on_after_it()
    {
        var db = new XapiDatabase();
        using (var store = new StateStore(dir, _ => true))
        {
            Mutate(db);
            store.Save(db);
        }

        var expected = Snapshot(db);
        var log = Path.Combine(dir, "state.log");
        var lines = File.ReadAllLines(log);
        var torn = lines[^1][..(lines[^1].Length / 2)];
        File.AppendAllText(log, torn);

        var reloaded = new XapiDatabase();
        using (var store = new StateStore(dir, _ => true))
        {
            store.Load(reloaded);
            Assert.Equal(expected, Snapshot(reloaded));
            Assert.Equal(lines.Sum(l => Encoding.UTF8.GetByteCount(l) + 1), new FileInfo(log).Length);

            // The next line starts on a line of its own, so it is read back too.
            reloaded.Set(reloaded.All(Schemas.Vm).First(), "name_description", "after the tear");
            store.Save(reloaded);
        }

        var again = new XapiDatabase();
        using var last = new StateStore(dir, _ => true);
        last.Load(again);
        Assert.Equal(Snapshot(reloaded), Snapshot(again));
    }

    [Fact]
    public void Compaction_rewrites_the_snapshot_when_the_log_outgrows_it_and_keeps_every_record()
    {
        var db = new XapiDatabase();
        using (var store = new StateStore(dir, _ => true) { CompactionMinBytes = 0, CompactionFactor = 2 })
        {
            Mutate(db);
            store.Compact(db);
            var snapshot = store.SnapshotBytes;
            var vm = db.All(Schemas.Vm).First();
            var compacted = false;
            for (var i = 0; i < 200 && !compacted; i++)
            {
                var logged = store.LogBytes;
                db.Set(vm, "name_description", $"change {i}");
                store.Save(db);
                compacted = store.LogBytes < logged;
            }

            Assert.True(compacted, $"the log never compacted (snapshot {snapshot} bytes, log {store.LogBytes})");
            db.Set(vm, "name_label", "after compaction");
            store.Save(db);
        }

        var reloaded = new XapiDatabase();
        using (var store = new StateStore(dir, _ => true))
        {
            store.Load(reloaded);
        }

        Assert.Equal(Snapshot(db), Snapshot(reloaded));

        // A data directory from before the log (state.json alone) still loads.
        File.Delete(Path.Combine(dir, "state.log"));
        var old = new XapiDatabase();
        using var oldStore = new StateStore(dir, _ => true);
        oldStore.Load(old);
        Assert.Equal(db.All(Schemas.Vm).Count(), old.All(Schemas.Vm).Count());
    }

    private long AppendedByOneChange(int vms)
    {
        using var pool = NewPool(Path.Combine(dir, $"pool-{vms}"), vms);
        lock (pool.Db.Sync)
        {
            var snapshot = File.GetLastWriteTimeUtc(pool.Store.SnapshotPath);
            var log = pool.Store.LogBytes;
            var vm = pool.Db.All(Schemas.Vm).First(v => v.Str("name_label") == "gen-00007");
            pool.Db.Set(vm, "name_description", "one change");
            pool.Store.Save(pool.Db);
            Assert.Equal(snapshot, File.GetLastWriteTimeUtc(pool.Store.SnapshotPath));
            return pool.Store.LogBytes - log;
        }
    }

    private static SimPool NewPool(string dataDir, int vms) => new(new SimOptions
    {
        DataDir = dataDir,
        CollectorInterval = TimeSpan.Zero,
        Fixture = Fixture.Default with { Vms = [], Generate = new FixtureGenerate(vms, Disks: 0) },
    });

    /// <summary>Creates, changes, re-points and deletes rows of several classes.</summary>
    private static void Mutate(XapiDatabase db)
    {
        var sr = db.All(Schemas.Sr).FirstOrDefault() ?? db.Create(Schemas.Sr, new Dictionary<string, object?> { ["name_label"] = "sr" });
        var vm = db.Create(Schemas.Vm,
            new Dictionary<string, object?> { ["name_label"] = "mutated", ["tags"] = new List<object?> { "a" } });
        var other = db.Create(Schemas.Vm, new Dictionary<string, object?> { ["name_label"] = "other" });
        var vdi = db.Create(Schemas.Vdi, new Dictionary<string, object?> { ["SR"] = sr.Ref, ["virtual_size"] = 1L << 20 });
        var gone = db.Create(Schemas.Vdi, new Dictionary<string, object?> { ["SR"] = sr.Ref });
        var vbd = db.Create(Schemas.Vbd, new Dictionary<string, object?> { ["VM"] = vm.Ref, ["VDI"] = gone.Ref });
        db.Set(vbd, "VDI", vdi.Ref);
        db.Set(vm, "other_config", new Dictionary<string, object?> { ["k"] = "v" });
        db.Set(vm, "HVM_shadow_multiplier", 1.0);
        db.Set(vm, "snapshot_time", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        db.Delete(gone);
        db.Delete(other);
    }

    /// <summary>Every record by ref, as JSON, so two databases compare field by field.</summary>
    private static Dictionary<string, string> Snapshot(XapiDatabase db)
        => Schemas.All.Where(s => s != Schemas.Task).SelectMany(db.All)
            .ToDictionary(r => r.Ref, r => JsonSerializer.Serialize(db.Record(r)));
}
