using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>A call's parameters after the session, converted on access (XML-RPC ints arrive as strings).</summary>
public sealed class Args(IReadOnlyList<object?> values)
{
    public int Count => values.Count;

    public object? this[int index] => values[index];

    public string String(int i) => values[i] as string ?? throw new XapiException("FIELD_TYPE_ERROR", $"param {i}");

    public long Long(int i) => (long)new FieldSpec($"param {i}", FieldKind.Int).Coerce(values[i])!;

    public double Double(int i) => (double)new FieldSpec($"param {i}", FieldKind.Float).Coerce(values[i])!;

    public bool Bool(int i) => (bool)new FieldSpec($"param {i}", FieldKind.Bool).Coerce(values[i])!;

    public Dictionary<string, object?> Map(int i) => values[i] as Dictionary<string, object?> ?? throw new XapiException("FIELD_TYPE_ERROR", $"param {i}");

    public List<object?> Set(int i) => values[i] as List<object?> ?? throw new XapiException("FIELD_TYPE_ERROR", $"param {i}");

    public bool Has(int i) => i < values.Count;
}
