namespace XcrCluster.Vhd;

/// <summary>Malformed VHD input: names the offending field and the absolute byte offset where it was found.</summary>
public sealed class VhdFormatException : Exception
{
    public VhdFormatException(string field, long offset, string problem)
        : base($"VHD {field} at byte {offset}: {problem}")
    {
        Field = field;
        Offset = offset;
    }

    public string Field { get; }

    public long Offset { get; }
}
