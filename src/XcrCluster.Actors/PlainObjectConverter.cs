using System.Text.Json;
using System.Text.Json.Serialization;

namespace XcrCluster.Actors;

/// <summary>Reads values typed only as <c>object</c> (an XAPI record a target gets from the source) back as the
/// plain values the XAPI client writes — string, long, double, bool, maps, lists — instead of JsonElement.</summary>
public sealed class PlainObjectConverter : JsonConverter<object>
{
    public override object? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ToPlain(JsonElement.ParseValue(ref reader));

    public override void Write(Utf8JsonWriter writer, object value, JsonSerializerOptions options)
        => JsonSerializer.Serialize(writer, value, value.GetType() == typeof(object) ? typeof(string) : value.GetType(), options);

    private static object? ToPlain(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var l) ? (object)l : element.GetDouble(), // not a ternary of long and double: that would widen to double
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => ToPlain(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Select(ToPlain).ToList(),
        _ => null,
    };
}
