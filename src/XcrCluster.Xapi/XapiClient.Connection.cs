using System.Net.Sockets;
using XcrCluster.Xapi.Transport;

namespace XcrCluster.Xapi;

/// <summary>How the client reaches the master: one HttpClient for calls and transfers alike, which never follows a
/// redirect itself (a transfer's redirect carries the session: XapiClient.Redirects.cs decides which to follow), and a
/// login that follows HOST_IS_SLAVE once.</summary>
public sealed partial class XapiClient
{
    /// <summary>Logs in unless another caller already replaced <paramref name="stale"/>; follows HOST_IS_SLAVE once.</summary>
    private async Task<string> LoginAsync(string? stale, CancellationToken ct)
    {
        await loginGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (session is not null && session != stale)
            {
                return session;
            }

            const string login = "session.login_with_password";
            var credentials = Endpoint.Credentials!;
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    bounded.CancelAfter(options.CallTimeout);
                    object? result;
                    try
                    {
                        result = await transport.CallAsync(login,
                            [credentials.User, credentials.Password.Reveal(), "1.1", options.Originator], bounded.Token)
                            .ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        throw CallTimedOut(login, options.CallTimeout);
                    }

                    session = AsString(login, result);
                    Log($"logged in to {Endpoint} over {transport.Name}");
                    return session;
                }
                catch (XapiException e) when (e.Code == "HOST_IS_SLAVE" && attempt == 0 && e.Parameters.Count > 0)
                {
                    Endpoint = Endpoint.WithHost(e.Parameters[0]);
                    transport = CreateTransport(Endpoint.Url);
                    Log($"host is a pool member; moving to the master at {Endpoint.Url.Host}");
                }
            }
        }
        finally
        {
            loginGate.Release();
        }
    }

    private IXapiTransport CreateTransport(Uri url) => options.Transport switch
    {
        "json" => new HttpRpcTransport(http, url, json: true, options.MaxResponseBytes),
        "xml" => new HttpRpcTransport(http, url, json: false, options.MaxResponseBytes),
        _ => new AutoTransport(http, url, options.MaxResponseBytes),
    };

    private static HttpClient CreateHttpClient(XapiTls tls, XapiClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            AllowAutoRedirect = false,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
        };
        if (options.ConnectionWrapper is { } wrap)
        {
            handler.ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, ct).ConfigureAwait(false);
                return wrap(new NetworkStream(socket, ownsSocket: true));
            };
        }

        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => tls.Validate(certificate, errors);
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", options.UserAgent);
        return http;
    }
}
