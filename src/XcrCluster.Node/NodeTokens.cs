using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using XcrCluster.Actors;

namespace XcrCluster.Node;

/// <summary>
/// The bearer tokens the HTTP API accepts: DIR/token, and after a rotation the previous one until the expiry written
/// beside it in DIR/token.previous. Both files are looked at again whenever they change (one stat per request), so
/// `xcr-node token rotate` takes effect on a running node without a restart.
/// </summary>
public sealed class NodeTokens(string dataDir)
{
    private const int MaxTokenFileBytes = 1024;

    private readonly object sync = new();
    private readonly string currentPath = Path.Combine(dataDir, "token");
    private readonly string previousPath = Path.Combine(dataDir, "token.previous");
    private (DateTime Current, DateTime Previous) stamps;
    private byte[] current = [];
    private (byte[] Token, DateTimeOffset Expires)? previous;

    /// <summary>Creates DIR/token with a new random token if there is none.</summary>
    public static void EnsureExists(string dataDir)
    {
        var path = Path.Combine(dataDir, "token");
        if (!File.Exists(path))
        {
            WriteAtomically(path, NewToken());
        }
    }

    public bool Accepts(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return false;
        }

        var given = Encoding.UTF8.GetBytes(authorization[7..]);
        if (given.Length == 0)
        {
            return false;
        }

        lock (sync)
        {
            Refresh();
            return CryptographicOperations.FixedTimeEquals(given, current)
                || (previous is { } p && p.Expires > DateTimeOffset.UtcNow && CryptographicOperations.FixedTimeEquals(given, p.Token));
        }
    }

    /// <summary>Runs <paramref name="use"/> on the current token only (never the previous one): what web sessions are
    /// signed with, so a rotation ends every session at once.</summary>
    internal T WithCurrent<T>(Func<byte[], T> use)
    {
        lock (sync)
        {
            Refresh();
            return use(current);
        }
    }

    /// <summary>A new token in DIR/token; the old one stays valid for <paramref name="keepPrevious"/> (zero: not at all).
    /// Returns the new token.</summary>
    public static string Rotate(string dataDir, TimeSpan keepPrevious)
    {
        var path = Path.Combine(dataDir, "token");
        var old = File.Exists(path) ? ReadToken(path) : null;
        var token = NewToken();
        var previousPath = Path.Combine(dataDir, "token.previous");
        if (old is not null && keepPrevious > TimeSpan.Zero)
        {
            var expires = DateTimeOffset.UtcNow.Add(keepPrevious).ToString("O", CultureInfo.InvariantCulture);
            WriteAtomically(previousPath, $"{old}\n{expires}\n");
        }
        else
        {
            File.Delete(previousPath);
        }

        WriteAtomically(path, token);
        return token;
    }

    private void Refresh()
    {
        var now = (File.GetLastWriteTimeUtc(currentPath), File.GetLastWriteTimeUtc(previousPath));
        if (now == stamps && current.Length > 0)
        {
            return;
        }

        stamps = now;
        current = Encoding.UTF8.GetBytes(ReadToken(currentPath) ?? "");
        previous = null;
        if (File.Exists(previousPath) && ReadLines(previousPath) is [var token, var expires, ..]
            && DateTimeOffset.TryParse(expires, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var until))
        {
            previous = (Encoding.UTF8.GetBytes(token.Trim()), until);
        }
    }

    private static string? ReadToken(string path) => ReadLines(path) is [var first, ..] ? first.Trim() : null;

    /// <summary>At most 1 KiB: a token file is never more, and a file swapped for something huge is not read whole.</summary>
    private static string[] ReadLines(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var buffer = new byte[MaxTokenFileBytes];
            var n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return Encoding.UTF8.GetString(buffer, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (FileNotFoundException)
        {
            return [];
        }
    }

    private static string NewToken() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    /// <summary>Written beside, then renamed over: a request never reads half a token.</summary>
    private static void WriteAtomically(string path, string content)
    {
        var temporary = path + ".new";
        PrivateFile.Write(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
