using System.Globalization;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Xapi.Records;

/// <summary>Reads typed fields from a record map: missing fields get defaults, and ints that XML-RPC delivered
/// as strings are converted by the field's type.</summary>
public readonly struct FieldReader(IReadOnlyDictionary<string, object?> fields)
{
    public string Str(string name, string fallback = "") => fields.TryGetValue(name, out var v) && v is not null ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? fallback : fallback;

    public string Ref(string name) => Str(name, XapiValue.NullRef);

    public long Long(string name, long fallback = 0) => fields.TryGetValue(name, out var v) ? v switch
    {
        long l => l,
        int i => i,
        double d => (long)d,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        _ => fallback,
    } : fallback;

    public double Double(string name) => fields.TryGetValue(name, out var v) ? v switch
    {
        double d => d,
        long l => l,
        int i => i,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => 0,
    } : 0;

    public bool Bool(string name, bool fallback = false) => fields.TryGetValue(name, out var v) ? v switch
    {
        bool b => b,
        string s => s is "1" or "true" || (s != "0" && s != "false" && fallback),
        _ => fallback,
    } : fallback;

    public DateTime Time(string name) => fields.TryGetValue(name, out var v) ? v switch
    {
        DateTime t => t,
        string s when XapiValue.TryParseDateTime(s, out var t) => t,
        _ => XapiValue.Epoch,
    } : XapiValue.Epoch;

    public IReadOnlyList<string> List(string name)
        => fields.TryGetValue(name, out var v) && v is IEnumerable<object?> items ? items.Select(i => Convert.ToString(i, CultureInfo.InvariantCulture) ?? "").ToList() : [];

    public IReadOnlyDictionary<string, string> Map(string name)
        => fields.TryGetValue(name, out var v) && v is IDictionary<string, object?> map
            ? map.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? "")
            : new Dictionary<string, string>();
}

/// <summary>A typed XAPI record of one class, built from the wire's map.</summary>
public interface IXapiRecord<TSelf>
    where TSelf : IXapiRecord<TSelf>
{
    static abstract string ClassName { get; }

    static abstract TSelf From(string @ref, IReadOnlyDictionary<string, object?> fields);

    string Ref { get; }

    string Uuid { get; }
}
