using XcrCluster.Xapi;
using System.Text.Json;
using System.Text.Json.Nodes;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Model;

/// <summary>
/// The pool's object database. Every change bumps a generation counter, which event.from tokens refer to;
/// deleted rows leave tombstones so watchers see "del". Callers hold <see cref="Sync"/> around reads and
/// writes; waiters for changes never hold it.
/// </summary>
public sealed class XapiDatabase
{
    private const int MaxTombstones = 20_000;
    private readonly Dictionary<string, XapiObject> rows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> refByUuid = new(StringComparer.OrdinalIgnoreCase);
    private readonly LinkedList<(long Generation, ClassSchema Schema, string Ref)> tombstones = new();
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Lock Sync { get; } = new();

    public long Generation { get; private set; }

    /// <summary>Set by every change; the owner saves and clears it.</summary>
    public bool Dirty { get; set; }

    public XapiObject Create(ClassSchema schema, IReadOnlyDictionary<string, object?>? fields = null, string? @ref = null)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var field in schema.Fields.Where(f => !f.IsComputed))
        {
            values[field.Name] = fields is not null && fields.TryGetValue(field.Name, out var v) ? field.Coerce(v) : field.NewDefault();
        }

        if (string.IsNullOrEmpty((string?)values["uuid"]))
        {
            values["uuid"] = Guid.NewGuid().ToString();
        }

        var row = new XapiObject(schema, @ref ?? XapiValue.NewRef(), values);
        rows.Add(row.Ref, row);
        refByUuid[row.Uuid] = row.Ref;
        row.CreatedGeneration = Touch(row);
        TouchReferenced(row);
        return row;
    }

    public long Touch(XapiObject row)
    {
        row.Generation = ++Generation;
        Dirty = true;
        Signal();
        return row.Generation;
    }

    public void Set(XapiObject row, string field, object? value)
    {
        var before = row.Fields[field];
        row.Fields[field] = row.Schema.Field(field).Coerce(value);
        Touch(row);
        if (ForwardRefs.Contains($"{row.Schema.Name}.{field}"))
        {
            TouchRow(before as string);
            TouchRow(row.Fields[field] as string);
        }
    }

    /// <summary>Ref fields another class shows as a reverse set ("VBD.VM" is VM.VBDs).</summary>
    private static readonly HashSet<string> ForwardRefs
        = Schemas.All.SelectMany(s => s.Fields).Where(f => f.IsComputed).Select(f => f.ReverseOf!).ToHashSet(StringComparer.Ordinal);

    /// <summary>A row created or deleted changes the reverse sets of the rows it refers to, and XAPI's database
    /// stamps those rows too (ocaml/database/db_cache_types.ml: add_row, remove_row and update_one_to_many), so
    /// event.from reports the VM whose VBDs changed. Without it an event-fed cache keeps stale VBDs, VDIs, snapshots.</summary>
    private void TouchReferenced(XapiObject row)
    {
        foreach (var field in row.Schema.Fields.Where(f => !f.IsComputed && ForwardRefs.Contains($"{row.Schema.Name}.{f.Name}")))
        {
            TouchRow(row.Fields[field.Name] as string);
        }
    }

    private void TouchRow(string? @ref)
    {
        if (@ref is not null && rows.TryGetValue(@ref, out var target))
        {
            Touch(target);
        }
    }

    public void Delete(XapiObject row)
    {
        if (!rows.Remove(row.Ref))
        {
            return;
        }

        refByUuid.Remove(row.Uuid);
        tombstones.AddLast((++Generation, row.Schema, row.Ref));
        if (tombstones.Count > MaxTombstones)
        {
            tombstones.RemoveFirst();
        }

        TouchReferenced(row);
        Dirty = true;
        Signal();
    }

    public bool TryGet(string @ref, out XapiObject row) => rows.TryGetValue(@ref, out row!);

    /// <summary>The row behind a ref of the given class, or HANDLE_INVALID [class, ref] as XAPI answers.</summary>
    public XapiObject Get(ClassSchema schema, string @ref)
        => rows.TryGetValue(@ref, out var row) && row.Schema == schema ? row : throw new XapiException("HANDLE_INVALID", schema.Name, @ref);

    /// <summary>Accepts a ref or a uuid (HTTP handlers take either).</summary>
    public XapiObject GetByRefOrUuid(ClassSchema schema, string id)
        => rows.TryGetValue(id, out var row) && row.Schema == schema ? row
            : refByUuid.TryGetValue(id, out var r) && rows[r].Schema == schema ? rows[r]
            : throw new XapiException("HANDLE_INVALID", schema.Name, id);

    public XapiObject GetByUuid(ClassSchema schema, string uuid)
        => refByUuid.TryGetValue(uuid, out var r) && rows[r].Schema == schema ? rows[r] : throw new XapiException("UUID_INVALID", schema.Name, uuid);

    public IEnumerable<XapiObject> All(ClassSchema schema) => rows.Values.Where(r => r.Schema == schema);

    public IEnumerable<XapiObject> Where(ClassSchema schema, string field, string value)
        => rows.Values.Where(r => r.Schema == schema && Equals(r.Fields[field], value));

    /// <summary>A complete record: every stored field plus the computed reverse sets.</summary>
    public Dictionary<string, object?> Record(XapiObject row)
    {
        var record = new Dictionary<string, object?>(row.Schema.Fields.Count, StringComparer.Ordinal);
        foreach (var field in row.Schema.Fields)
        {
            record[field.Name] = field.IsComputed ? Reverse(row, field) : Copy(row.Fields[field.Name]);
        }

        return record;
    }

    public object? FieldValue(XapiObject row, FieldSpec field) => field.IsComputed ? Reverse(row, field) : Copy(row.Fields[field.Name]);

    public List<object?> Reverse(XapiObject row, FieldSpec field)
    {
        var dot = field.ReverseOf!.IndexOf('.');
        var schema = Schemas.Get(field.ReverseOf[..dot]);
        var forward = field.ReverseOf[(dot + 1)..];
        return rows.Values.Where(r => r.Schema == schema && Equals(r.Fields[forward], row.Ref)).Select(r => (object?)r.Ref).ToList();
    }

    public Dictionary<string, object?> Counts()
        => Schemas.All.ToDictionary(s => s.EventClass, s => (object?)rows.Values.Count(r => r.Schema == s));

    /// <summary>Changes after <paramref name="since"/> in the given classes ("*" for all): rows with their current
    /// record (add or mod) and tombstones (del).</summary>
    public List<Dictionary<string, object?>> EventsSince(long since, IReadOnlyCollection<string> classes)
    {
        bool Wanted(ClassSchema s, string @ref) => classes.Any(c => c == "*" || c.Equals(s.EventClass, StringComparison.OrdinalIgnoreCase)
            || c.Equals(s.EventClass + "/" + @ref, StringComparison.OrdinalIgnoreCase));
        var events = new List<(long Gen, Dictionary<string, object?> Event)>();
        foreach (var row in rows.Values.Where(r => r.Generation > since && Wanted(r.Schema, r.Ref)))
        {
            events.Add((row.Generation, Event(row.Generation, row.Schema, row.Ref, row.CreatedGeneration > since ? "add" : "mod", Record(row))));
        }

        foreach (var (gen, schema, @ref) in tombstones.Where(t => t.Generation > since && Wanted(t.Schema, t.Ref)))
        {
            events.Add((gen, Event(gen, schema, @ref, "del", null)));
        }

        return events.OrderBy(e => e.Gen).Select(e => e.Event).ToList();
    }

    /// <summary>Completes at the next change; never called with <see cref="Sync"/> held.</summary>
    public Task NextChange()
    {
        lock (Sync)
        {
            return changed.Task;
        }
    }

    private void Signal()
    {
        var previous = changed;
        changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private static Dictionary<string, object?> Event(long gen, ClassSchema schema, string @ref, string op, Dictionary<string, object?>? snapshot)
    {
        var e = new Dictionary<string, object?>
        {
            ["id"] = gen.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["timestamp"] = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0).ToString("F6", System.Globalization.CultureInfo.InvariantCulture),
            ["class"] = schema.EventClass,
            ["operation"] = op,
            ["ref"] = @ref,
        };
        if (snapshot is not null)
        {
            e["snapshot"] = snapshot;
        }

        return e;
    }

    private static object? Copy(object? value) => value switch
    {
        List<object?> list => list.ToList(),
        Dictionary<string, object?> map => new Dictionary<string, object?>(map),
        _ => value,
    };

    // ---- persistence: one JSON document, rewritten atomically (temp file + rename) ----

    public void Save(string path, Func<XapiObject, bool> keep)
    {
        var root = new JsonObject { ["generation"] = Generation };
        var array = new JsonArray();
        foreach (var row in rows.Values.Where(keep))
        {
            var fields = new JsonObject();
            foreach (var (name, value) in row.Fields)
            {
                fields[name] = ToNode(value);
            }

            array.Add(new JsonObject { ["class"] = row.Schema.Name, ["ref"] = row.Ref, ["fields"] = fields });
        }

        root["objects"] = array;
        var temp = path + ".tmp";
        File.WriteAllText(temp, root.ToJsonString());
        File.Move(temp, path, overwrite: true);
        Dirty = false;
    }

    public void Load(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        foreach (var node in root["objects"]!.AsArray())
        {
            var schema = Schemas.Get(node!["class"]!.GetValue<string>());
            var fields = node["fields"]!.AsObject().ToDictionary(p => p.Key, p => FromNode(p.Value, schema.ByName.GetValueOrDefault(p.Key)));
            Create(schema, fields.Where(f => schema.ByName.ContainsKey(f.Key)).ToDictionary(), node["ref"]!.GetValue<string>());
        }

        Generation = Math.Max(Generation, root["generation"]!.GetValue<long>());
        Dirty = false;
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        DateTime t => JsonValue.Create(XapiValue.FormatDateTime(t)),
        List<object?> list => new JsonArray(list.Select(ToNode).ToArray()),
        Dictionary<string, object?> map => new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, ToNode(p.Value)))),
        _ => JsonValue.Create(value),
    };

    private static object? FromNode(JsonNode? node, FieldSpec? spec)
    {
        var plain = node is null ? null : JsonRpc.FromJson(JsonSerializer.SerializeToElement(node));
        return spec?.Kind == FieldKind.Float && plain is long l ? (double)l : plain;
    }
}
