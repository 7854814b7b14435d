namespace XcrCluster.Xapi;

/// <summary>Map fields (other_config, blocked_operations, ...) written entry by entry, as XAPI clients do.</summary>
public sealed partial class XapiClient
{
    /// <summary>From this many entries on, the map is read first and entries already as wanted are not written: one
    /// get saves a remove and an add per unchanged key. A replica cloned from the previous one, or a snapshot that
    /// inherited its VM's other_config, already carries most keys a run sets (issue 16: 122 of a run's 324 calls).</summary>
    public const int ReadMapFrom = 2;

    /// <summary>Sets one entry of a map field the way XAPI clients do: remove (which never fails), then add,
    /// looping on MAP_DUPLICATE_KEY if someone raced us. A null value only removes.</summary>
    public async Task SetMapEntryAsync(string cls, string @ref, string field, string key, string? value, CancellationToken ct = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            await CallAsync($"{cls}.remove_from_{field}", [@ref, key], ct).ConfigureAwait(false);
            if (value is null)
            {
                return;
            }

            try
            {
                await CallAsync($"{cls}.add_to_{field}", [@ref, key, value], ct).ConfigureAwait(false);
                return;
            }
            catch (XapiException e) when (e.Code == "MAP_DUPLICATE_KEY" && attempt < 5)
            {
            }
        }
    }

    /// <summary>Sets entries of a map field (a null value removes the key), skipping those the map already holds as
    /// wanted when there are at least <see cref="ReadMapFrom"/>. The read is the pool's own (never a cache), so a
    /// skipped entry is one the pool shows at that moment, whoever wrote it; a key the map did not hold is added without
    /// the remove before it (a run's new markers: half its other_config calls), and removed then added as usual only if
    /// someone added it since (MAP_DUPLICATE_KEY).</summary>
    public async Task SetMapEntriesAsync(string cls, string @ref, string field, IReadOnlyDictionary<string, string?> entries,
        CancellationToken ct = default)
    {
        if (entries.Count < ReadMapFrom)
        {
            foreach (var (key, value) in entries)
            {
                await SetMapEntryAsync(cls, @ref, field, key, value, ct).ConfigureAwait(false);
            }

            return;
        }

        var method = $"{cls}.get_{field}";
        var current = AsMap(method, await CallAsync(method, [@ref], ct).ConfigureAwait(false));
        foreach (var (key, value) in entries)
        {
            if (value is null ? !current.ContainsKey(key)
                : string.Equals(current.GetValueOrDefault(key) as string, value, StringComparison.Ordinal))
            {
                continue;
            }

            var added = value is not null && !current.ContainsKey(key)
                && await TryAddMapEntryAsync(cls, @ref, field, key, value, ct).ConfigureAwait(false);
            if (!added)
            {
                await SetMapEntryAsync(cls, @ref, field, key, value, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>add_to_FIELD alone: false when the key is there already (MAP_DUPLICATE_KEY), nothing changed then.</summary>
    private async Task<bool> TryAddMapEntryAsync(string cls, string @ref, string field, string key, string value, CancellationToken ct)
    {
        try
        {
            await CallAsync($"{cls}.add_to_{field}", [@ref, key, value], ct).ConfigureAwait(false);
            return true;
        }
        catch (XapiException e) when (e.Code == "MAP_DUPLICATE_KEY")
        {
            return false;
        }
    }
}
