namespace XcrCluster.Xapi;

/// <summary>
/// Where a pool's master is and how to log in, from a URL such as https://root:p%40ss@host[:port]
/// (percent-encoded credentials, as xo-cr-seed takes them). The password never appears in <see cref="Url"/>
/// or <see cref="ToString"/>.
/// </summary>
public sealed record XapiEndpoint
{
    public required Uri Url { get; init; }

    public XapiCredentials? Credentials { get; init; }

    public XapiTls Tls { get; init; } = XapiTls.Verify;

    /// <summary>Parses a pool URL; a URL with no scheme is https, as with XAPI clients.</summary>
    public static XapiEndpoint Parse(string url, XapiTls? tls = null, XapiCredentials? credentials = null)
    {
        if (!url.Contains("://", StringComparison.Ordinal))
        {
            url = "https://" + url;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw new ArgumentException($"not an http(s) pool URL: {Mask(url)}", nameof(url));
        }

        if (uri.UserInfo.Length > 0 && credentials is null)
        {
            var colon = uri.UserInfo.IndexOf(':');
            var user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            var password = colon < 0 ? "" : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            credentials = new XapiCredentials(user, new Secret(password));
        }

        var bare = new UriBuilder(uri) { UserName = "", Password = "", Path = "/", Query = "", Fragment = "" }.Uri;
        return new XapiEndpoint { Url = bare, Credentials = credentials, Tls = tls ?? XapiTls.Verify };
    }

    /// <summary>True when the URL carried a password (callers may warn: it shows on command lines).</summary>
    public static bool HasPasswordInUrl(string url)
        => Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "https://" + url, UriKind.Absolute, out var u) && u.UserInfo.Contains(':');

    /// <summary>A URL with any password replaced by ***, for messages and logs.</summary>
    public static string Mask(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var at = url.LastIndexOf('@');
        if (scheme < 0 || at < scheme)
        {
            return url;
        }

        var userInfo = url[(scheme + 3)..at];
        var colon = userInfo.IndexOf(':');
        return colon < 0 ? url : url[..(scheme + 3)] + userInfo[..colon] + ":" + Secret.Mask + url[at..];
    }

    /// <summary>The same endpoint on another host (HOST_IS_SLAVE names the master by address; scheme and port stay).</summary>
    public XapiEndpoint WithHost(string host) => this with { Url = new UriBuilder(Url) { Host = host }.Uri };

    public override string ToString() => Credentials is null ? Url.ToString() : $"{Url.Scheme}://{Credentials.User}:{Secret.Mask}@{Url.Authority}/";
}
