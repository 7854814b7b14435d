using System.Text.Json;
using XcrCluster.Domain.Pools;

namespace XcrCluster.Domain.Control;

/// <summary>A Xen Orchestra job's <c>vms</c>: VM ids (<c>{id: uuid}</c>, <c>{id: {__or: […]}}</c>) or a smart pattern
/// <c>{type: 'VM', $pool, power_state, tags}</c>, whose parts xo-web builds as <c>{__or: values}</c>,
/// <c>{__not: {__or: notValues}}</c> or <c>{__and: [values, not]}</c>, each tag value a list of tags a VM must all have.
/// A smart pattern becomes a <see cref="SmartSelection"/> where it means the same, else it is refused with the reason.</summary>
internal static class XoVmPattern
{
    private static readonly HashSet<string> SmartKeys = ["type", "$pool", "power_state", "tags"];

    public static (List<string> Vms, SmartSelection? Smart) Read(JsonElement pattern, string sourcePool, List<string> warnings)
    {
        if (pattern.ValueKind != JsonValueKind.Object || pattern.TryGetProperty("id", out _))
        {
            var vms = XoJobImport.Ids(pattern, "vms");
            return vms.Count == 0 ? throw new FormatException("vms: the job names no VM") : (vms, null);
        }

        if (pattern.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => !SmartKeys.Contains(n)) is { } unknown)
        {
            throw new FormatException($"vms: smart pattern key \"{unknown}\" is not supported "
                + "(xcr selects by pool, tags and power state)");
        }

        if (XoJobImport.Text(pattern, "type") is { } type && type != "VM")
        {
            throw new FormatException($"vms: smart pattern of type \"{type}\"");
        }

        var pools = pattern.TryGetProperty("$pool", out var poolPattern) ? Values(poolPattern, "$pool") : ([], []);
        if (pools.Values is not [var pool] || pools.Not.Count > 0)
        {
            throw new FormatException("vms: a smart pattern here selects the VMs of one pool: its $pool must name exactly one pool "
                + "(Xen Orchestra's selects across every pool it names, or every pool without $pool)");
        }

        warnings.Add($"vms: smart pattern's pool {Flat(pool)} is taken as the source pool {sourcePool}");
        string? power = null;
        if (pattern.TryGetProperty("power_state", out var state))
        {
            power = state.ValueKind == JsonValueKind.String
                ? SmartSelection.PowerStates.FirstOrDefault(p => p.Equals(state.GetString(), StringComparison.OrdinalIgnoreCase))
                : null;
            if (power is null)
            {
                throw new FormatException(
                    $"vms: power_state {state.GetRawText()} is not one of {string.Join(", ", SmartSelection.PowerStates)}");
            }
        }

        var tags = pattern.TryGetProperty("tags", out var tagPattern) ? Values(tagPattern, "tags") : ([], []);
        if (tags.Values.Count > 1)
        {
            throw new FormatException($"vms: tags {tagPattern.GetRawText()} selects VMs having any of several tag sets; "
                + "xcr's smart selection takes one set of tags a VM must all have");
        }

        if (tags.Not.FirstOrDefault(t => t.Count != 1) is { } group)
        {
            throw new FormatException($"vms: excluding VMs that have all of [{string.Join(", ", group)}] at once is not supported; "
                + "xcr excludes a VM having any one excluded tag");
        }

        return ([], new SmartSelection(sourcePool, tags.Values.Count == 1 ? tags.Values[0] : [], power, [.. tags.Not.Select(t => t[0])]));
    }

    /// <summary>The values and the excluded values of a smart pattern part, each a list of strings (a tag value is a list of
    /// tags; a plain string counts as a list of one).</summary>
    private static (List<List<string>> Values, List<List<string>> Not) Values(JsonElement part, string field)
    {
        var values = new List<List<string>>();
        var not = new List<List<string>>();
        if (part.ValueKind == JsonValueKind.String)
        {
            values.Add([part.GetString()!]);
        }
        else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("__and", out var and)
            && and.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in and.EnumerateArray())
            {
                var (v, n) = Values(item, field);
                values.AddRange(v);
                not.AddRange(n);
            }
        }
        else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("__or", out var or) && or.ValueKind == JsonValueKind.Array)
        {
            values.AddRange(or.EnumerateArray().Select(v => Group(v, field)));
        }
        else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("__not", out var inner))
        {
            var (v, n) = Values(inner, field);
            if (n.Count > 0)
            {
                throw new FormatException($"vms: {field} {part.GetRawText()}: a double negation is not supported");
            }

            not.AddRange(v);
        }
        else
        {
            throw new FormatException($"vms: {field} pattern {part.GetRawText()} is not supported");
        }

        return (values, not);
    }

    private static List<string> Group(JsonElement value, string field) => value.ValueKind switch
    {
        JsonValueKind.String => [value.GetString()!],
        JsonValueKind.Array when value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String)
            => [.. value.EnumerateArray().Select(v => v.GetString()!)],
        _ => throw new FormatException($"vms: {field} value {value.GetRawText()} is not supported"),
    };

    private static string Flat(List<string> values) => string.Join(",", values);
}
