using System.Globalization;
using System.Text;

namespace XcrCluster.Cli;

/// <summary>How many terminal columns text takes: a VM named in Chinese or with an emoji takes two per character, a
/// combining accent none, so that rows laid out to a width never wrap whatever the names. East Asian Wide and Fullwidth
/// ranges of Unicode's EastAsianWidth.txt, the common ones (rare wide characters outside them count as one).</summary>
public static class TextWidth
{
    public static int Of(string text)
    {
        var width = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            width += Of(rune);
        }

        return width;
    }

    /// <summary>The longest start of the text that takes at most <paramref name="width"/> columns.</summary>
    public static string Cut(string text, int width)
    {
        var cut = new StringBuilder();
        var used = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var w = Of(rune);
            if (used + w > width)
            {
                break;
            }

            cut.Append(rune.ToString());
            used += w;
        }

        return cut.ToString();
    }

    private static int Of(Rune rune)
    {
        var category = Rune.GetUnicodeCategory(rune);
        if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            || Rune.IsControl(rune))
        {
            return 0;
        }

        return rune.Value switch
        {
            >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0x303E or >= 0x3041 and <= 0x33FF or >= 0x3400 and <= 0x4DBF
                or >= 0x4E00 and <= 0x9FFF or >= 0xA000 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3 or >= 0xF900 and <= 0xFAFF
                or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6 or >= 0x1F300 and <= 0x1F64F
                or >= 0x1F900 and <= 0x1F9FF or >= 0x20000 and <= 0x3FFFD => 2,
            _ => 1,
        };
    }
}
