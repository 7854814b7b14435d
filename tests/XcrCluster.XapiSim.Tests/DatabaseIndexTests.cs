using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Tests;

/// <summary>The database's indexes answer what a scan of every row would: reverse sets after creates, changes
/// (a VBD re-pointed to another VDI or VM) and deletes, per-class counts, and event.from's changes in order.</summary>
public sealed class DatabaseIndexTests
{
    [Fact]
    public void Reverse_sets_follow_creates_repointing_and_deletes()
    {
        var db = new XapiDatabase();
        var sr = db.Create(Schemas.Sr);
        var a = db.Create(Schemas.Vm);
        var b = db.Create(Schemas.Vm);
        var x = db.Create(Schemas.Vdi, Fields(("SR", sr.Ref)));
        var y = db.Create(Schemas.Vdi, Fields(("SR", sr.Ref)));
        var vbd = db.Create(Schemas.Vbd, Fields(("VM", a.Ref), ("VDI", x.Ref)));
        Assert.Equal([vbd.Ref], db.Record(a)["VBDs"] as List<object?>);
        Assert.Equal([vbd.Ref], db.Record(x)["VBDs"] as List<object?>);
        Assert.Equal([x.Ref, y.Ref], db.Record(sr)["VDIs"] as List<object?>);

        db.Set(vbd, "VDI", y.Ref);
        Assert.Empty((List<object?>)db.Record(x)["VBDs"]!);
        Assert.Equal([vbd.Ref], db.Record(y)["VBDs"] as List<object?>);

        // A field changed in place counts once the row is touched, as every handler does.
        vbd.Fields["VM"] = b.Ref;
        db.Touch(vbd);
        Assert.Empty((List<object?>)db.FieldValue(a, Schemas.Vm.Field("VBDs"))!);
        Assert.Equal([vbd], db.Where(Schemas.Vbd, "VM", b.Ref));

        db.Delete(vbd);
        db.Delete(x);
        Assert.Empty((List<object?>)db.Record(b)["VBDs"]!);
        Assert.Empty((List<object?>)db.Record(y)["VBDs"]!);
        Assert.Equal([y.Ref], db.Record(sr)["VDIs"] as List<object?>);
        AssertIndexesMatchScan(db);
    }

    [Fact]
    public void After_random_changes_every_reverse_set_count_and_lookup_matches_a_scan()
    {
        var db = new XapiDatabase();
        var rng = new Random(16);
        var srs = Enumerable.Range(0, 3).Select(_ => db.Create(Schemas.Sr)).ToList();
        var vms = Enumerable.Range(0, 20).Select(_ => db.Create(Schemas.Vm)).ToList();
        var vdis = Enumerable.Range(0, 30).Select(_ => db.Create(Schemas.Vdi, Fields(("SR", Pick(rng, srs).Ref)))).ToList();
        var vbds = new List<XapiObject>();
        for (var step = 0; step < 500; step++)
        {
            switch (rng.Next(5))
            {
                case 0:
                    vbds.Add(db.Create(Schemas.Vbd, Fields(("VM", Pick(rng, vms).Ref), ("VDI", Pick(rng, vdis).Ref))));
                    break;
                case 1 when vbds.Count > 0:
                    db.Set(Pick(rng, vbds), rng.Next(2) == 0 ? "VM" : "VDI", rng.Next(2) == 0 ? Pick(rng, vms).Ref : Pick(rng, vdis).Ref);
                    break;
                case 2 when vbds.Count > 0:
                    var gone = Pick(rng, vbds);
                    vbds.Remove(gone);
                    db.Delete(gone);
                    break;
                case 3:
                    var vdi = Pick(rng, vdis);
                    db.Set(vdi, "snapshot_of", Pick(rng, vdis).Ref);
                    db.Set(vdi, "SR", Pick(rng, srs).Ref);
                    break;
                default:
                    var vm = db.Create(Schemas.Vm, Fields(("parent", Pick(rng, vms).Ref)));
                    vms.Add(vm);
                    break;
            }
        }

        AssertIndexesMatchScan(db);
    }

    [Fact]
    public void Events_since_a_token_list_only_later_changes_in_order_with_their_operation()
    {
        var db = new XapiDatabase();
        var vm = db.Create(Schemas.Vm);
        var other = db.Create(Schemas.Vm);
        var doomed = db.Create(Schemas.Vdi);

        // Untouched after the token yet newer than the rows changed after it: the walk back must pass it.
        db.Create(Schemas.Vm);
        var token = db.Generation;

        var added = db.Create(Schemas.Vbd, Fields(("VM", vm.Ref)));
        db.Set(other, "name_label", "second");
        db.Delete(doomed);
        db.Set(vm, "name_label", "last");

        var events = db.EventsSince(token, ["*"]);
        Assert.Equal(
            [("vbd", "add", added.Ref), ("vm", "mod", other.Ref), ("vdi", "del", doomed.Ref), ("vm", "mod", vm.Ref)],
            events.Select(e => ((string)e["class"]!, (string)e["operation"]!, (string)e["ref"]!)));
        var ids = events.Select(e => long.Parse((string)e["id"]!)).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.All(ids, id => Assert.True(id > token));
        Assert.Equal("last", ((Dictionary<string, object?>)events[^1]["snapshot"]!)["name_label"]);
        Assert.Equal([added.Ref], ((Dictionary<string, object?>)events[^1]["snapshot"]!)["VBDs"] as List<object?>);
        Assert.False(events[2].ContainsKey("snapshot"));

        // Class names in any case, single objects, and names of no class.
        Assert.Equal([other.Ref, vm.Ref], db.EventsSince(token, ["VM"]).Select(e => (string)e["ref"]!));
        Assert.Equal([vm.Ref], db.EventsSince(token, [$"vm/{vm.Ref}"]).Select(e => (string)e["ref"]!));
        Assert.Equal([doomed.Ref, vm.Ref], db.EventsSince(token, ["vdi", $"vm/{vm.Ref}", "nosuchclass"]).Select(e => (string)e["ref"]!));
        Assert.Empty(db.EventsSince(db.Generation, ["*"]));
        Assert.Equal(5, db.EventsSince(0, ["*"]).Count);
    }

    private static void AssertIndexesMatchScan(XapiDatabase db)
    {
        var all = Schemas.All.SelectMany(db.All).ToList();
        foreach (var row in all)
        {
            foreach (var field in row.Schema.Fields.Where(f => f.IsComputed))
            {
                var dot = field.ReverseOf!.IndexOf('.');
                var source = Schemas.Get(field.ReverseOf[..dot]);
                var forward = field.ReverseOf[(dot + 1)..];
                var scanned = all.Where(r => r.Schema == source && Equals(r.Fields[forward], row.Ref)).Select(r => r.Ref).Order().ToList();
                Assert.Equal(scanned, ((List<object?>)db.Record(row)[field.Name]!).Cast<string>().Order());
                Assert.Equal(scanned, db.Where(source, forward, row.Ref).Select(r => r.Ref).Order());
            }
        }

        Assert.Equal(Schemas.All.ToDictionary(s => s.EventClass, s => (object?)all.Count(r => r.Schema == s)), db.Counts());
    }

    private static T Pick<T>(Random rng, List<T> items) => items[rng.Next(items.Count)];

    private static Dictionary<string, object?> Fields(params (string Name, object? Value)[] fields)
        => fields.ToDictionary(f => f.Name, f => f.Value);
}
