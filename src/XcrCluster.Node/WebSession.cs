using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace XcrCluster.Node;

/// <summary>
/// The dashboard's session cookie: "EXPIRES.NONCE.MAC", the MAC an HMAC-SHA256 keyed with the node's current token.
/// Nothing is stored server side; a token rotation (`xcr-node token rotate`) changes the key, so every session ends
/// with it (the previous token's grace period is for API clients, not browsers). A request authenticated by the cookie
/// that changes something must carry <see cref="CsrfHeader"/>, which only the page's own script sets: another site
/// can neither send a custom header without a CORS preflight (which this node never answers) nor the Strict cookie.
/// </summary>
public static class WebSession
{
    public const string CookieName = "xcr_session";

    /// <summary>The header the page's script sets on every call; its value is not secret (its presence is the proof).</summary>
    public const string CsrfHeader = "X-Xcr-Web";

    /// <summary>How long a login lasts (a browser left open overnight logs in again the next day).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private static readonly byte[] Purpose = Encoding.UTF8.GetBytes("xcr-web-session/1|");

    /// <summary>True when <paramref name="given"/> is the current token (time-constant comparison).</summary>
    public static bool IsCurrentToken(NodeTokens tokens, string given)
    {
        var bytes = Encoding.UTF8.GetBytes(given.Trim());
        return bytes.Length > 0 && tokens.WithCurrent(current => CryptographicOperations.FixedTimeEquals(bytes, current));
    }

    /// <summary>A new session value valid for <see cref="Lifetime"/>.</summary>
    public static string Issue(NodeTokens tokens, DateTimeOffset now)
    {
        var body = $"{(now + Lifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}."
            + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        return $"{body}.{tokens.WithCurrent(key => Mac(key, body))}";
    }

    /// <summary>True for an unexpired session signed with the current token.</summary>
    public static bool IsValid(NodeTokens tokens, string? value, DateTimeOffset now)
    {
        if (value is null || value.Split('.') is not [var expires, var nonce, var mac] || nonce.Length != 32
            || !long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var until)
            || until < now.ToUnixTimeSeconds())
        {
            return false;
        }

        var given = Encoding.ASCII.GetBytes(mac);
        // No token file (an empty key) admits nobody: anyone could sign with an empty key.
        return tokens.WithCurrent(key => key.Length > 0
            && CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(Mac(key, $"{expires}.{nonce}"))));
    }

    /// <summary>The request holds a valid session cookie and, unless it only reads, the page's header and no foreign
    /// Origin: what the API middleware accepts in place of the bearer token.</summary>
    public static bool Admits(HttpContext context, NodeTokens tokens)
    {
        if (!IsValid(tokens, context.Request.Cookies[CookieName], DateTimeOffset.UtcNow))
        {
            return false;
        }

        var method = context.Request.Method;
        return HttpMethods.IsGet(method) || HttpMethods.IsHead(method)
            || (context.Request.Headers.ContainsKey(CsrfHeader) && SameOrigin(context));
    }

    /// <summary>No Origin header (same-origin GETs, non-browser clients) or one naming this very host.</summary>
    public static bool SameOrigin(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        return origin.Length == 0
            || (Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                && string.Equals(uri.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase)
                && uri.Scheme == context.Request.Scheme);
    }

    public static void SetCookie(HttpContext context, string value) => context.Response.Cookies.Append(CookieName, value,
        new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/", IsEssential = true,
            MaxAge = Lifetime,
        });

    public static void ClearCookie(HttpContext context) => context.Response.Cookies.Delete(CookieName,
        new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/" });

    private static string Mac(byte[] key, string body)
        => Convert.ToHexString(HMACSHA256.HashData(key, (byte[])[.. Purpose, .. Encoding.UTF8.GetBytes(body)])).ToLowerInvariant();
}
