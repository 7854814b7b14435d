using System.Globalization;

namespace XcrCluster.Domain;

/// <summary>Sizes and durations as operators type them ("100MiB", "20MB", "2h", "90s"). Pure.</summary>
public static class Units
{
    private static readonly (string Suffix, long Factor)[] Bytes =
        [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1)];

    /// <summary>The longest duration any setting takes (a job's timeout, the node's ask timeout): longer is a typo, and
    /// near TimeSpan's range it overflows (or, as a CancelAfter, throws inside an actor).</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    /// <summary>What <see cref="ParseDuration"/> takes, for error messages.</summary>
    public const string DurationHint = "a duration such as 2h or 30m, at most 7d";

    private static readonly (string Suffix, double Seconds)[] Times = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];

    /// <summary>Bytes: a whole number with an optional unit (KiB, MiB, GiB, KB, MB, GB); null when it is not one.</summary>
    public static long? ParseBytes(string text)
    {
        var (suffix, factor) = Bytes.FirstOrDefault(u => text.EndsWith(u.Suffix, StringComparison.OrdinalIgnoreCase), ("", 1));
        return long.TryParse(text[..^suffix.Length], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && n <= long.MaxValue / factor ? n * factor : null;
    }

    /// <summary>A duration: a number with a unit (ms, s, m, h, d) or a TimeSpan ("01:30:00"), from 0 to
    /// <see cref="MaxDuration"/>; null when it is not one or is out of that range (checked before a TimeSpan is made,
    /// so 99999999999h is refused rather than overflowing).</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        foreach (var (suffix, seconds) in Times.OrderByDescending(t => t.Suffix.Length))
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text[..^suffix.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
            {
                // NaN and infinities fail the comparison too.
                return n * seconds is var total && total >= 0 && total <= MaxDuration.TotalSeconds ? TimeSpan.FromSeconds(total) : null;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero && span <= MaxDuration
            ? span
            : null;
    }
}
