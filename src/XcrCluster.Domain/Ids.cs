using System.Text.Json;
using System.Text.Json.Serialization;

namespace XcrCluster.Domain;

/// <summary>An id that is a string on the wire and in the journal, but a type of its own in code, so a job id cannot be
/// passed where a schedule or SR id is expected (records that hold several of them side by side).</summary>
public interface IStringId<TSelf>
    where TSelf : struct, IStringId<TSelf>
{
    string Value { get; }

    static abstract TSelf From(string value);
}

/// <summary>A job's id.</summary>
[JsonConverter(typeof(StringIdConverter<JobId>))]
public readonly record struct JobId(string Value) : IStringId<JobId>
{
    public static JobId From(string value) => new(value);

    public override string ToString() => Value;
}

/// <summary>A schedule's id (it scopes restore points and snapshots, as in Xen Orchestra).</summary>
[JsonConverter(typeof(StringIdConverter<ScheduleId>))]
public readonly record struct ScheduleId(string Value) : IStringId<ScheduleId>
{
    public static ScheduleId From(string value) => new(value);

    public override string ToString() => Value;
}

/// <summary>An SR's uuid.</summary>
[JsonConverter(typeof(StringIdConverter<SrId>))]
public readonly record struct SrId(string Value) : IStringId<SrId>
{
    public static SrId From(string value) => new(value);

    public override string ToString() => Value;
}

/// <summary>Writes an id as its plain string, reads it back from one: the JSON of a record does not change when a string
/// field becomes an id.</summary>
public sealed class StringIdConverter<T> : JsonConverter<T>
    where T : struct, IStringId<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => T.From(reader.GetString() ?? throw new JsonException($"{typeof(T).Name}: a string is required"));

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);

    public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => Read(ref reader, typeToConvert, options);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        => writer.WritePropertyName(value.Value);
}
