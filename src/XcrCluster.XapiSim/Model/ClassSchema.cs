using XcrCluster.Xapi;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Model;

public enum FieldKind
{
    String,
    Int,
    Float,
    Bool,
    DateTime,
    Ref,
    Set,
    Map,
}

/// <summary>A field of a class. A reverse field is computed from the forward field named by ReverseOf ("VBD.VM").</summary>
public sealed record FieldSpec(string Name, FieldKind Kind, object? Default = null, string? ReverseOf = null)
{
    public bool IsComputed => ReverseOf is not null;

    public object? NewDefault() => Kind switch
    {
        FieldKind.String => Default ?? "",
        FieldKind.Int => Default ?? 0L,
        FieldKind.Float => Default ?? 0.0,
        FieldKind.Bool => Default ?? false,
        FieldKind.DateTime => Default ?? XapiValue.Epoch,
        FieldKind.Ref => Default ?? XapiValue.NullRef,
        FieldKind.Set => Default is IEnumerable<object?> items ? items.ToList() : new List<object?>(),
        FieldKind.Map => Default is IDictionary<string, object?> map ? new Dictionary<string, object?>(map) : new Dictionary<string, object?>(),
        _ => Default,
    };

    /// <summary>Converts what a client sent (XML-RPC ints arrive as strings) to this field's type.</summary>
    public object? Coerce(object? value) => Kind switch
    {
        FieldKind.String or FieldKind.Ref => value as string ?? throw TypeError(),
        FieldKind.Int => value switch
        {
            long l => l,
            int i => (long)i,
            double d when d == Math.Floor(d) => (long)d,
            string s when long.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var l) => l,
            _ => throw TypeError(),
        },
        FieldKind.Float => value switch
        {
            double d => d,
            long l => (double)l,
            string s when double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var d) => d,
            _ => throw TypeError(),
        },
        FieldKind.Bool => value switch
        {
            bool b => b,
            string s when bool.TryParse(s, out var b) => b,
            _ => throw TypeError(),
        },
        FieldKind.DateTime => value switch
        {
            DateTime t => t,
            string s when XapiValue.TryParseDateTime(s, out var t) => t,
            _ => throw TypeError(),
        },
        FieldKind.Set => value is List<object?> list ? list.ToList() : throw TypeError(),
        FieldKind.Map => value is Dictionary<string, object?> map ? map.ToDictionary(p => p.Key, p => (object?)(p.Value?.ToString() ?? "")) : throw TypeError(),
        _ => value,
    };

    private XapiException TypeError() => new("FIELD_TYPE_ERROR", Name);
}

/// <summary>A XAPI class: its wire name and its complete, constant field set (the npm client fixes a class's
/// field list from the first record it sees, so every record carries every field).</summary>
public sealed class ClassSchema
{
    public ClassSchema(string name, IEnumerable<FieldSpec> fields)
    {
        Name = name;
        Fields = [new FieldSpec("uuid", FieldKind.String), .. fields];
        ByName = Fields.ToDictionary(f => f.Name);
    }

    public string Name { get; }

    public string EventClass => Name.ToLowerInvariant();

    public IReadOnlyList<FieldSpec> Fields { get; }

    public IReadOnlyDictionary<string, FieldSpec> ByName { get; }

    public FieldSpec Field(string name) => ByName.TryGetValue(name, out var f) ? f : throw new XapiException("MESSAGE_METHOD_UNKNOWN", $"{Name}.get_{name}");
}
