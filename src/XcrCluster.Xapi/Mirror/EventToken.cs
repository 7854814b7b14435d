using System.Globalization;

namespace XcrCluster.Xapi.Mirror;

/// <summary>event.from / event.inject tokens: "%020Ld,%020Ld" (database generation, message generation) in
/// ocaml/xapi/xapi_event.ml (Token.to_string). Compared by generation; a token that does not parse (another
/// format) falls back to ordinal order, which the zero-padding makes the same for XAPI's own.</summary>
internal static class EventToken
{
    public static int Compare(string a, string b)
        => Generation(a) is { } x && Generation(b) is { } y ? x.CompareTo(y) : string.CompareOrdinal(a, b);

    private static long? Generation(string token)
    {
        var comma = token.IndexOf(',');
        var first = comma < 0 ? token : token[..comma];
        return long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : null;
    }
}
