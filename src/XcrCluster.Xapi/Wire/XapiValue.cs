using System.Globalization;

namespace XcrCluster.Xapi.Wire;

/// <summary>
/// XAPI values in memory are plain objects: string (also refs, uuids, enums), long (int), int (Int32, only in
/// valid_ref_counts), double, bool, DateTime (UTC), List&lt;object?&gt; (set), Dictionary&lt;string, object?&gt; (map,
/// record) and null. These helpers convert what the wire delivered into what a parameter or field needs,
/// because XML-RPC clients send ints as untyped strings.
/// </summary>
public static class XapiValue
{
    public const string NullRef = "OpaqueRef:NULL";

    public static readonly DateTime Epoch = DateTime.UnixEpoch;

    public static string FormatDateTime(DateTime value) => value.ToUniversalTime().ToString("yyyyMMdd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static bool TryParseDateTime(string text, out DateTime value)
    {
        string[] formats = ["yyyyMMdd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyyMMdd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", "yyyyMMdd'T'HHmmss'Z'"];
        return DateTime.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out value);
    }

    public static string NewRef() => "OpaqueRef:" + Guid.NewGuid().ToString();

    public static string FormatDouble(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
