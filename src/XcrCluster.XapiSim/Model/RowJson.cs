using System.Text.Json;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Model;

/// <summary>A row's stored fields as JSON, for the state snapshot and log, written as JSON-RPC writes values (dates as
/// XAPI's strings); reading coerces each value back to its field's type (so 1.0 written as 1 reads as a float).</summary>
internal static class RowJson
{
    public static void WriteRow(Utf8JsonWriter writer, XapiObject row)
    {
        writer.WriteString("class", row.Schema.Name);
        writer.WriteString("ref", row.Ref);
        writer.WritePropertyName("fields");
        writer.WriteStartObject();
        foreach (var (name, value) in row.Fields)
        {
            writer.WritePropertyName(name);
            JsonRpc.WriteValue(writer, value);
        }

        writer.WriteEndObject();
    }

    /// <summary>The class, ref and fields of a row written by <see cref="WriteRow"/>; fields no longer in the
    /// class are dropped (a state written by an older simulator).</summary>
    public static (ClassSchema Schema, string Ref, Dictionary<string, object?> Fields) ReadRow(JsonElement element)
    {
        var schema = Schemas.Get(element.GetProperty("class").GetString()!);
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in element.GetProperty("fields").EnumerateObject())
        {
            if (schema.ByName.TryGetValue(property.Name, out var spec))
            {
                var value = JsonRpc.FromJson(property.Value);
                fields[property.Name] = spec.Kind == FieldKind.Float && value is long l ? (double)l : value;
            }
        }

        return (schema, element.GetProperty("ref").GetString()!, fields);
    }
}
