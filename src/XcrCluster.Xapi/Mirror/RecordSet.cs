using System.Collections.Immutable;

namespace XcrCluster.Xapi.Mirror;

/// <summary>One class of one consistent view of a pool: its records by ref, and by the keys of an
/// <see cref="IRecordIndex"/>. From the mirror, the index is kept as events arrive; without one, it is made from a
/// get_all_records (<see cref="From"/>).</summary>
public sealed class RecordSet<T>
    where T : class
{
    private readonly IReadOnlyDictionary<string, object> byRef;
    private readonly IReadOnlyDictionary<string, ImmutableHashSet<string>> byKey;

    internal RecordSet(IReadOnlyDictionary<string, object> byRef, IReadOnlyDictionary<string, ImmutableHashSet<string>> byKey)
        => (this.byRef, this.byKey) = (byRef, byKey);

    /// <summary>A set made from records read from the pool.</summary>
    public static RecordSet<T> From(IEnumerable<(string Ref, T Record)> records, IRecordIndex index)
    {
        var byRef = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (@ref, record) in records)
        {
            byRef[@ref] = record;
        }

        return new(byRef, IndexTable.Build(byRef, index));
    }

    /// <summary>The record with this ref; null when the view does not hold it.</summary>
    public T? Find(string @ref) => byRef.GetValueOrDefault(@ref) as T;

    /// <summary>The records holding <paramref name="key"/> (in no particular order).</summary>
    public IReadOnlyList<T> Where(string key)
        => byKey.TryGetValue(key, out var refs) ? [.. refs.Select(r => (T)byRef[r])] : [];

    /// <summary>The records holding any of <paramref name="keys"/>, each once.</summary>
    public IReadOnlyList<T> WhereAny(IEnumerable<string> keys)
        => [.. keys.SelectMany(k => byKey.GetValueOrDefault(k) ?? []).Distinct(StringComparer.Ordinal).Select(r => (T)byRef[r])];
}

/// <summary>Key to refs for one class: built once from a whole class, then changed record by record.</summary>
internal static class IndexTable
{
    public static ImmutableDictionary<string, ImmutableHashSet<string>> Empty { get; }
        = ImmutableDictionary.Create<string, ImmutableHashSet<string>>(StringComparer.Ordinal);

    public static ImmutableDictionary<string, ImmutableHashSet<string>> Build(IEnumerable<KeyValuePair<string, object>> records,
        IRecordIndex index)
    {
        var table = Empty.ToBuilder();
        foreach (var (@ref, record) in records)
        {
            Change(table, index, @ref, null, record);
        }

        return table.ToImmutable();
    }

    /// <summary>One record added (<paramref name="before"/> null), changed, or removed (<paramref name="after"/> null).</summary>
    public static void Change(ImmutableDictionary<string, ImmutableHashSet<string>>.Builder table, IRecordIndex index, string @ref,
        object? before, object? after)
    {
        var old = before is null ? [] : index.Keys(before).ToHashSet(StringComparer.Ordinal);
        var @new = after is null ? [] : index.Keys(after).ToHashSet(StringComparer.Ordinal);
        foreach (var key in old.Where(k => !@new.Contains(k)))
        {
            var refs = table[key].Remove(@ref);
            if (refs.IsEmpty)
            {
                table.Remove(key);
            }
            else
            {
                table[key] = refs;
            }
        }

        foreach (var key in @new.Where(k => !old.Contains(k)))
        {
            table[key] = (table.GetValueOrDefault(key) ?? ImmutableHashSet.Create<string>(StringComparer.Ordinal)).Add(@ref);
        }
    }
}
