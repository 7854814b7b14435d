using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>The login a registration makes before the pool is stored, on a node serving the pool.</summary>
public static class PoolLogin
{
    /// <summary>The whole login (connection, TLS, session): a pool that does not answer by then is refused.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Logs in with what is about to be stored, then out: null, or why not in XAPI's words (e.g.
    /// SESSION_AUTHENTICATION_FAILED) or the connection's (refused, certificate rejected, no answer in time).</summary>
    public static async Task<string?> ErrorAsync(XapiEndpoint endpoint)
    {
        using var bounded = new CancellationTokenSource(Timeout);
        try
        {
            var options = new XapiClientOptions { CallTimeout = Timeout };
            await using var client = await XapiClient.ConnectAsync(endpoint, options, bounded.Token).ConfigureAwait(false);
            return null;
        }
        catch (XapiException e)
        {
            return e.Message;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Security.Authentication.AuthenticationException)
        {
            // "The SSL connection could not be established, see inner exception." alone says nothing: the chain does.
            var reasons = new List<string>();
            for (var x = e; x is not null; x = x.InnerException)
            {
                reasons.Add(x.Message.Replace(", see inner exception.", "", StringComparison.Ordinal).TrimEnd('.'));
            }

            return string.Join(": ", reasons.Distinct());
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            return $"no answer within {Timeout.TotalSeconds:0} s";
        }
    }

    /// <summary>The endpoint a registration names, its password unsealed with the cluster key (here, at connection time).</summary>
    public static XapiEndpoint Endpoint(Domain.Control.PoolRegistration p, ClusterKey key)
    {
        var tls = p.Fingerprint is { } fp ? XapiTls.Pinned(fp) : p.AllowUnauthorized ? XapiTls.AllowUnauthorized : XapiTls.Verify;
        return XapiEndpoint.Parse(p.Url, tls, new XapiCredentials(p.User, new Secret(key.Decrypt(p.EncryptedPassword))));
    }
}
