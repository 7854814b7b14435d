namespace XcrCluster.Xapi;

/// <summary>
/// A password or token. It prints as "***" everywhere (ToString, records' generated ToString, logs,
/// dead letters), so holding one can never leak it; only <see cref="Reveal"/> gives the value, at the
/// single place that must send it.
/// </summary>
public sealed class Secret : IEquatable<Secret>
{
    public const string Mask = "***";
    private readonly string value;

    public Secret(string value) => this.value = value ?? throw new ArgumentNullException(nameof(value));

    public bool IsEmpty => value.Length == 0;

    public string Reveal() => value;

    public override string ToString() => Mask;

    public bool Equals(Secret? other) => other is not null && string.Equals(value, other.value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as Secret);

    public override int GetHashCode() => value.GetHashCode(StringComparison.Ordinal);
}
