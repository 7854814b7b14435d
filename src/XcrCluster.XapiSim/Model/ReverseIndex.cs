namespace XcrCluster.XapiSim.Model;

/// <summary>
/// The members of every reverse set (VM.VBDs = the VBDs whose VM is this VM, SR.VDIs, VDI.VBDs, ...), kept
/// current on each create, change and delete, so a record costs O(its fields) and get_all_records O(rows)
/// rather than a scan of every row per reverse field. Members are listed in creation order, as a scan did.
/// A forward field changed without <see cref="XapiDatabase.Touch"/> is not seen: every change must touch.
/// </summary>
internal sealed class ReverseIndex
{
    private static readonly IComparer<XapiObject> BySeq = Comparer<XapiObject>.Create((a, b) => a.Seq.CompareTo(b.Seq));

    /// <summary>Per source class, the forward fields some reverse field names ("VBD" → VM, VDI).</summary>
    private readonly Dictionary<ClassSchema, (string Field, string Key)[]> forwardByClass;
    private readonly Dictionary<(string Forward, string Target), SortedSet<XapiObject>> members = [];

    public ReverseIndex()
    {
        forwardByClass = Schemas.All.SelectMany(s => s.Fields).Where(f => f.IsComputed).Select(f => f.ReverseOf!).Distinct()
            .GroupBy(r => Schemas.Get(r[..r.IndexOf('.')]))
            .ToDictionary(g => g.Key, g => g.Select(r => (Field: r[(r.IndexOf('.') + 1)..], Key: r)).ToArray());
    }

    /// <summary>True when <paramref name="field"/> of <paramref name="schema"/> is indexed, so a Where on it needs no scan.</summary>
    public bool Covers(ClassSchema schema, string field, out string forward)
    {
        forward = $"{schema.Name}.{field}";
        return forwardByClass.TryGetValue(schema, out var fields) && fields.Any(f => f.Field == field);
    }

    /// <summary>The rows whose <paramref name="forward"/> field ("VBD.VM") holds <paramref name="target"/>.</summary>
    public IReadOnlyCollection<XapiObject> Members(string forward, string target)
        => members.TryGetValue((forward, target), out var set) ? set : [];

    /// <summary>After a create or change: moves the row between sets where its forward fields changed, and adds the
    /// refs whose sets it left or joined to <paramref name="moved"/>.</summary>
    public void Update(XapiObject row, List<string> moved)
    {
        if (!forwardByClass.TryGetValue(row.Schema, out var fields))
        {
            return;
        }

        if (row.Indexed.Length != fields.Length)
        {
            row.Indexed = new string?[fields.Length];
        }

        for (var i = 0; i < fields.Length; i++)
        {
            var now = row.Fields[fields[i].Field] as string;
            var was = row.Indexed[i];
            if (string.Equals(now, was, StringComparison.Ordinal))
            {
                continue;
            }

            Leave(fields[i].Key, was, row, moved);
            if (now is not null)
            {
                moved.Add(now);
                if (!members.TryGetValue((fields[i].Key, now), out var set))
                {
                    members[(fields[i].Key, now)] = set = new SortedSet<XapiObject>(BySeq);
                }

                set.Add(row);
            }

            row.Indexed[i] = now;
        }
    }

    /// <summary>After a delete: the row leaves every set; the refs whose sets it left are added to <paramref name="moved"/>.</summary>
    public void Remove(XapiObject row, List<string> moved)
    {
        if (!forwardByClass.TryGetValue(row.Schema, out var fields) || row.Indexed.Length != fields.Length)
        {
            return;
        }

        for (var i = 0; i < fields.Length; i++)
        {
            Leave(fields[i].Key, row.Indexed[i], row, moved);
            row.Indexed[i] = null;
        }
    }

    private void Leave(string forward, string? target, XapiObject row, List<string> moved)
    {
        if (target is null || !members.TryGetValue((forward, target), out var set) || !set.Remove(row))
        {
            return;
        }

        moved.Add(target);
        if (set.Count == 0)
        {
            members.Remove((forward, target));
        }
    }
}
