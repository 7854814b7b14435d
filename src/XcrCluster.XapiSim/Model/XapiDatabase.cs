using XcrCluster.Xapi;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Model;

/// <summary>
/// The pool's object database. Every change bumps a generation counter, which event.from tokens refer to;
/// deleted rows leave tombstones so watchers see "del". Rows are indexed by class, by last change (per class,
/// newest last) and by reverse field, so records, get_all_records and event.from with a recent token cost
/// what they return, not the pool's size. Changed and deleted rows are remembered until the owner takes them
/// (<see cref="TakeChanges"/>) to persist only those. Callers hold <see cref="Sync"/> around reads and writes;
/// waiters for changes never hold it.
/// </summary>
public sealed partial class XapiDatabase
{
    private const int MaxTombstones = 20_000;
    private readonly Dictionary<string, XapiObject> rows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> refByUuid = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<ClassSchema, ClassRows> classes = Schemas.All.ToDictionary(s => s, _ => new ClassRows());
    private readonly ReverseIndex reverse = new();
    private readonly VdiIndex vdis = new();
    private readonly LinkedList<(long Generation, ClassSchema Schema, string Ref)> tombstones = new();
    private readonly Dictionary<string, XapiObject> changes = new(StringComparer.Ordinal);
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long seq;

    public Lock Sync { get; } = new();

    public long Generation { get; private set; }

    /// <summary>True when a row changed or was deleted since the last <see cref="TakeChanges"/>.</summary>
    public bool Dirty => changes.Count > 0;

    public XapiObject Create(ClassSchema schema, IReadOnlyDictionary<string, object?>? fields = null, string? @ref = null)
    {
        var row = new XapiObject(schema, @ref ?? XapiValue.NewRef(), Values(schema, fields)) { Seq = ++seq };
        rows.Add(row.Ref, row);
        refByUuid[row.Uuid] = row.Ref;
        Table(schema).ByRef.Add(row.Ref, row);
        row.CreatedGeneration = Touch(row);
        return row;
    }

    /// <summary>Creates the row or replaces every stored field of the existing one (a persisted log's replay).</summary>
    internal XapiObject Put(ClassSchema schema, string @ref, IReadOnlyDictionary<string, object?> fields)
    {
        if (!rows.TryGetValue(@ref, out var row) || row.Schema != schema)
        {
            return Create(schema, fields, @ref);
        }

        refByUuid.Remove(row.Uuid);
        foreach (var (name, value) in Values(schema, fields))
        {
            row.Fields[name] = value;
        }

        refByUuid[row.Uuid] = row.Ref;
        Touch(row);
        return row;
    }

    public long Touch(XapiObject row)
    {
        row.Generation = ++Generation;
        if (rows.TryGetValue(row.Ref, out var live) && ReferenceEquals(live, row))
        {
            var byTouch = Table(row.Schema).ByTouch;
            if (row.TouchNode is { } node)
            {
                byTouch.Remove(node);
                byTouch.AddLast(node);
            }
            else
            {
                row.TouchNode = byTouch.AddLast(row);
            }

            var moved = new List<string>();
            reverse.Update(row, moved);
            vdis.Update(row);
            changes[row.Ref] = row;
            TouchReferenced(moved);
        }

        Signal();
        return row.Generation;
    }

    /// <summary>A row created, deleted or re-pointed changes the reverse sets of the rows it refers to, and XAPI's
    /// database stamps those rows too (ocaml/database/db_cache_types.ml: add_row, remove_row and
    /// update_one_to_many), so event.from reports the VM whose VBDs changed. Without it an event-fed cache keeps
    /// stale VBDs, VDIs, snapshots. Touching a referenced row moves none of its own forward fields: no cascade.</summary>
    private void TouchReferenced(List<string> moved)
    {
        foreach (var @ref in moved)
        {
            if (rows.TryGetValue(@ref, out var target))
            {
                Touch(target);
            }
        }
    }

    public void Set(XapiObject row, string field, object? value)
    {
        row.Fields[field] = row.Schema.Field(field).Coerce(value);
        Touch(row);
    }

    public void Delete(XapiObject row)
    {
        if (!rows.Remove(row.Ref))
        {
            return;
        }

        refByUuid.Remove(row.Uuid);
        var table = Table(row.Schema);
        table.ByRef.Remove(row.Ref);
        if (row.TouchNode is { } node)
        {
            table.ByTouch.Remove(node);
            row.TouchNode = null;
        }

        var moved = new List<string>();
        reverse.Remove(row, moved);
        vdis.Remove(row);
        tombstones.AddLast((++Generation, row.Schema, row.Ref));
        if (tombstones.Count > MaxTombstones)
        {
            tombstones.RemoveFirst();
        }

        changes[row.Ref] = row;
        TouchReferenced(moved);
        Signal();
    }

    /// <summary>The rows changed (Deleted false: their current state) or deleted since the last call, each once.</summary>
    public List<(XapiObject Row, bool Deleted)> TakeChanges()
    {
        var taken = changes.Values.Select(r => (r, !rows.TryGetValue(r.Ref, out var live) || !ReferenceEquals(live, r))).ToList();
        changes.Clear();
        return taken;
    }

    /// <summary>After a load: the generation goes on from the persisted one; nothing loaded counts as a change.</summary>
    internal void Loaded(long generation)
    {
        Generation = Math.Max(Generation, generation);
        changes.Clear();
        tombstones.Clear();
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

    /// <summary>Every row of a class, in creation order (a deleted row's place may be reused).</summary>
    public IEnumerable<XapiObject> All(ClassSchema schema) => Table(schema).ByRef.Values;

    /// <summary>The rows whose field equals the value; a reverse-indexed ref field (VBD.VM, VDI.SR, ...) is looked
    /// up, not scanned. The result is a copy, so callers may change or delete what they iterate.</summary>
    public IEnumerable<XapiObject> Where(ClassSchema schema, string field, string value)
        => reverse.Covers(schema, field, out var forward) ? reverse.Members(forward, value).ToList()
            : Table(schema).ByRef.Values.Where(r => Equals(r.Fields[field], value)).ToList();

    /// <summary>The VDIs whose sm_config vhd-parent is this VDI uuid (its children in a file SR's chain), in
    /// creation order; looked up, not scanned. A copy, as <see cref="Where"/>'s.</summary>
    public List<XapiObject> VdiChildren(string uuid) => [.. vdis.Children(uuid)];

    /// <summary>What the simulator shows as the SR's virtual_allocation: the virtual sizes of its managed VDIs.</summary>
    public long VirtualAllocation(string srRef) => vdis.Allocation(srRef);

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
        => reverse.Members(field.ReverseOf!, row.Ref).Select(r => (object?)r.Ref).ToList();

    public Dictionary<string, object?> Counts() => Schemas.All.ToDictionary(s => s.EventClass, s => (object?)Table(s).ByRef.Count);

    private ClassRows Table(ClassSchema schema)
    {
        if (!classes.TryGetValue(schema, out var table))
        {
            classes[schema] = table = new ClassRows();
        }

        return table;
    }

    private static Dictionary<string, object?> Values(ClassSchema schema, IReadOnlyDictionary<string, object?>? fields)
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

        return values;
    }

    private static object? Copy(object? value) => value switch
    {
        List<object?> list => list.ToList(),
        Dictionary<string, object?> map => new Dictionary<string, object?>(map),
        _ => value,
    };

    /// <summary>A class's rows: by ref (creation order) and by last change (oldest first).</summary>
    private sealed class ClassRows
    {
        public Dictionary<string, XapiObject> ByRef { get; } = new(StringComparer.Ordinal);

        public LinkedList<XapiObject> ByTouch { get; } = new();
    }
}
