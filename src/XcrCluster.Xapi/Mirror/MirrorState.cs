using System.Collections.Immutable;

namespace XcrCluster.Xapi.Mirror;

/// <summary>One consistent view of a pool: every mirrored class, as of <see cref="Token"/>. Immutable, so a reader holds
/// a whole view while the loop publishes the next; a reload builds a new one from scratch.</summary>
internal sealed record MirrorState(ImmutableDictionary<string, ImmutableDictionary<string, object>> Classes, string PoolRef,
    string Token)
{
    public ImmutableDictionary<string, object> Of(string cls)
        => Classes.TryGetValue(cls, out var objects) ? objects : ImmutableDictionary<string, object>.Empty;

    public static ImmutableDictionary<string, ImmutableDictionary<string, object>> Empty { get; }
        = ImmutableDictionary.Create<string, ImmutableDictionary<string, object>>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The view after one event.from batch: add and mod replace the record with the event's snapshot, del
    /// removes it; classes not mirrored are skipped.</summary>
    public MirrorState Apply(IEnumerable<object?> events, string token, Func<string, object?, IReadOnlyDictionary<string, object?>> asMap)
    {
        var classes = Classes.ToBuilder();
        foreach (var item in events)
        {
            var e = asMap("event.from", item);
            if (e.GetValueOrDefault("class") is not string cls || !MirroredClass.ByName.TryGetValue(cls, out var mirrored)
                || e.GetValueOrDefault("ref") is not string @ref)
            {
                continue;
            }

            var objects = classes.TryGetValue(mirrored.Name, out var o) ? o : ImmutableDictionary<string, object>.Empty;
            if (e.GetValueOrDefault("operation") is "del")
            {
                classes[mirrored.Name] = objects.Remove(@ref);
            }
            else if (e.GetValueOrDefault("snapshot") is { } snapshot)
            {
                // XAPI leaves an event out when the object's record could not be read (gone in between: its del follows).
                classes[mirrored.Name] = objects.SetItem(@ref, mirrored.Decode(@ref, asMap("event.from", snapshot)));
            }
        }

        return this with { Classes = classes.ToImmutable(), Token = token };
    }
}
