using System.Globalization;

namespace XcrCluster.XapiSim.Model;

/// <summary>What event.from reads: the changes after a generation, walked from the newest end of each wanted
/// class's change list and of the tombstones, so a recent token costs O(changes since), not O(rows).</summary>
public sealed partial class XapiDatabase
{
    /// <summary>Changes after <paramref name="since"/> in the given classes ("*" for all, "vm" for a class,
    /// "vm/REF" for one object): rows with their current record (add or mod) and tombstones (del), oldest first.</summary>
    public List<Dictionary<string, object?>> EventsSince(long since, IReadOnlyCollection<string> classes)
    {
        var filter = new EventFilter(classes);
        var found = new List<(long Gen, ClassSchema Schema, string Ref, XapiObject? Row)>();
        foreach (var (schema, table) in this.classes)
        {
            if (!filter.Covers(schema))
            {
                continue;
            }

            for (var node = table.ByTouch.Last; node is not null && node.Value.Generation > since; node = node.Previous)
            {
                if (filter.Wants(schema, node.Value.Ref))
                {
                    found.Add((node.Value.Generation, schema, node.Value.Ref, node.Value));
                }
            }
        }

        for (var node = tombstones.Last; node is not null && node.Value.Generation > since; node = node.Previous)
        {
            if (filter.Wants(node.Value.Schema, node.Value.Ref))
            {
                found.Add((node.Value.Generation, node.Value.Schema, node.Value.Ref, null));
            }
        }

        return found.OrderBy(e => e.Gen)
            .Select(e => Event(e.Gen, e.Schema, e.Ref, e.Row is null ? "del" : e.Row.CreatedGeneration > since ? "add" : "mod",
                e.Row is null ? null : Record(e.Row)))
            .ToList();
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

    private static Dictionary<string, object?> Event(
        long gen, ClassSchema schema, string @ref, string op, Dictionary<string, object?>? snapshot)
    {
        var e = new Dictionary<string, object?>
        {
            ["id"] = gen.ToString(CultureInfo.InvariantCulture),
            ["timestamp"] = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0).ToString("F6", CultureInfo.InvariantCulture),
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

    /// <summary>event.from's class list: "*", whole classes (any case) and single objects ("vm/OpaqueRef:...").
    /// Names of no class match nothing.</summary>
    private sealed class EventFilter
    {
        private readonly bool all;
        private readonly HashSet<ClassSchema> whole = [];
        private readonly HashSet<(ClassSchema, string)> objects = new(new ObjectComparer());

        public EventFilter(IReadOnlyCollection<string> classes)
        {
            foreach (var c in classes)
            {
                var slash = c.IndexOf('/');
                if (c == "*")
                {
                    all = true;
                }
                else if (slash < 0 && Schemas.TryGetByEventClass(c, out var schema))
                {
                    whole.Add(schema);
                }
                else if (slash >= 0 && Schemas.TryGetByEventClass(c[..slash], out var owner))
                {
                    objects.Add((owner, c[(slash + 1)..]));
                }
            }
        }

        public bool Covers(ClassSchema schema) => all || whole.Contains(schema) || objects.Any(o => o.Item1 == schema);

        public bool Wants(ClassSchema schema, string @ref) => all || whole.Contains(schema) || objects.Contains((schema, @ref));

        private sealed class ObjectComparer : IEqualityComparer<(ClassSchema Schema, string Ref)>
        {
            public bool Equals((ClassSchema Schema, string Ref) x, (ClassSchema Schema, string Ref) y)
                => x.Schema == y.Schema && string.Equals(x.Ref, y.Ref, StringComparison.OrdinalIgnoreCase);

            public int GetHashCode((ClassSchema Schema, string Ref) o)
                => HashCode.Combine(o.Schema, StringComparer.OrdinalIgnoreCase.GetHashCode(o.Ref));
        }
    }
}
