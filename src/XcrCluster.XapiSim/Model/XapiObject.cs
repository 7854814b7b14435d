namespace XcrCluster.XapiSim.Model;

/// <summary>One row: its class, opaque ref and stored (non-computed) fields.</summary>
public sealed class XapiObject(ClassSchema schema, string @ref, Dictionary<string, object?> fields)
{
    public ClassSchema Schema { get; } = schema;

    public string Ref { get; } = @ref;

    public Dictionary<string, object?> Fields { get; } = fields;

    public long CreatedGeneration { get; set; }

    public long Generation { get; set; }

    /// <summary>Creation order: reverse sets list their members in it.</summary>
    internal long Seq { get; set; }

    /// <summary>This row's place in its class's list ordered by last change (event.from walks it from the end).</summary>
    internal LinkedListNode<XapiObject>? TouchNode { get; set; }

    /// <summary>The values of this row's reverse-indexed forward fields as last indexed (see ReverseIndex).</summary>
    internal string?[] Indexed { get; set; } = [];

    public string Uuid => (string)Fields["uuid"]!;

    public string Str(string field) => (string)Fields[field]!;

    public long Int(string field) => (long)Fields[field]!;

    public bool Bool(string field) => (bool)Fields[field]!;

    public Dictionary<string, object?> Map(string field) => (Dictionary<string, object?>)Fields[field]!;

    public List<object?> Set(string field) => (List<object?>)Fields[field]!;

    public string? MapValue(string field, string key) => Map(field).TryGetValue(key, out var v) ? v as string : null;

    public override string ToString() => $"{Schema.Name} {Ref}";
}
