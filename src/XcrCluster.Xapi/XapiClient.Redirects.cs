using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi;

/// <summary>
/// Which redirects a transfer follows. XAPI answers 302 with Location https://&lt;host.address&gt;&lt;same path and
/// query&gt; when another host of the pool holds the disk (ocaml/xapi/importexport.ml, return_302_redirect); the
/// query carries the session, so a Location naming anything else (another scheme, a host outside the pool) is
/// refused rather than handing the session to whoever the reply names.
/// </summary>
public sealed partial class XapiClient
{
    private volatile HashSet<string>? poolAddresses;

    /// <summary>The URL to follow from <paramref name="from"/>, or an <see cref="XapiProtocolException"/> naming
    /// the refused location (without its query).</summary>
    private async Task<Uri> FollowableRedirectAsync(Uri from, Uri location, string what, CancellationToken ct)
    {
        var target = location.IsAbsoluteUri ? location : new Uri(from, location);
        var shown = target.GetLeftPart(UriPartial.Path);
        if (target.Scheme != from.Scheme)
        {
            throw Malformed(from, $"refused to follow the redirect of {what} to {shown}: scheme {target.Scheme}, not {from.Scheme}");
        }

        if (!await IsPoolHostAsync(HostOf(target), ct).ConfigureAwait(false))
        {
            var known = string.Join(", ", poolAddresses ?? []);
            throw Malformed(from, $"refused to follow the redirect of {what} to {shown}: not a host of this pool (its hosts: {known})");
        }

        return target;
    }

    /// <summary>The master we log in to, or a host whose address field names <paramref name="host"/>. The hosts are
    /// read when a redirect first happens, and again when one names a host not seen yet (a member may have joined).</summary>
    private async Task<bool> IsPoolHostAsync(string host, CancellationToken ct)
    {
        if (string.Equals(host, HostOf(Endpoint.Url), StringComparison.OrdinalIgnoreCase) || poolAddresses?.Contains(host) == true)
        {
            return true;
        }

        var hosts = await GetAllRecordsAsync<HostRecord>(ct).ConfigureAwait(false);
        var addresses = hosts.Select(h => h.Address.Trim('[', ']')).Where(a => a.Length > 0).ToHashSet(StringComparer.OrdinalIgnoreCase);
        poolAddresses = addresses;
        return addresses.Contains(host);
    }

    private XapiProtocolException Malformed(Uri from, string problem)
        => new(XapiProtocolException.Name(from), from.AbsolutePath.Trim('/'), problem);

    /// <summary>A URL's host as host.address spells it (an IPv6 address without brackets).</summary>
    private static string HostOf(Uri url) => url.Host.Trim('[', ']');
}
