using System.Globalization;

namespace XcrCluster.Domain;

/// <summary>Sizes and durations as operators type them ("100MiB", "20MB", "2h", "90s"). Pure.</summary>
public static class Units
{
    private static readonly (string Suffix, long Factor)[] Bytes = [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1)];

    private static readonly (string Suffix, double Seconds)[] Times = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];

    /// <summary>Bytes: a whole number with an optional unit (KiB, MiB, GiB, KB, MB, GB); null when it is not one.</summary>
    public static long? ParseBytes(string text)
    {
        var (suffix, factor) = Bytes.FirstOrDefault(u => text.EndsWith(u.Suffix, StringComparison.OrdinalIgnoreCase), ("", 1));
        return long.TryParse(text[..^suffix.Length], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= long.MaxValue / factor ? n * factor : null;
    }

    /// <summary>A duration: a number with a unit (ms, s, m, h, d) or a TimeSpan ("01:30:00"); null when it is not one.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        foreach (var (suffix, seconds) in Times.OrderByDescending(t => t.Suffix.Length))
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) && double.TryParse(text[..^suffix.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
            {
                return TimeSpan.FromSeconds(n * seconds);
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) ? span : null;
    }
}
