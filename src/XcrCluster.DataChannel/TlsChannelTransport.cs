using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace XcrCluster.DataChannel;

/// <summary>
/// The data channel over TLS for WAN links: the same frames through an SslStream. The receiving node presents its
/// certificate; senders pin it by SHA-256 fingerprint (no CA needed between two nodes of one cluster). Slower than
/// plain Akka.Streams TCP (a socket read loop instead of Akka IO), so plain TCP stays the default on a trusted LAN.
/// </summary>
public sealed class TlsChannelTransport(X509Certificate2? certificate, string pinnedSha256) : IChannelTransport
{
    /// <summary>Under the 85 KB large-object threshold: each chunk copied out of the read buffer stays a gen-0 object.</summary>
    private const int ChunkSize = 64 * 1024;

    /// <summary>The SHA-256 fingerprint senders pin, as hex.</summary>
    public static string Fingerprint(X509Certificate2 certificate) => Convert.ToHexString(SHA256.HashData(certificate.RawData));

    public Task<IChannelBinding> BindAsync(string host, int port, ChannelListener channelListener, IMaterializer materializer)
    {
        var serverCertificate = certificate ?? throw new InvalidOperationException("a TLS receiver needs its certificate");
        var listener = new TcpListener(IPAddress.Parse(host), port);
        listener.Start();
        var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }

                if (channelListener.Connection(client.Client.RemoteEndPoint!) is { } handler)
                {
                    _ = ServeAsync(client, serverCertificate, handler, channelListener.HandshakeTimeout, materializer);
                }
                else
                {
                    client.Dispose(); // over the limit: closed before any TLS work
                }
            }
        });
        return Task.FromResult<IChannelBinding>(new Binding(listener, stop));
    }

    public Flow<ByteString, ByteString, NotUsed> Connect(string host, int port)
    {
        var connection = new Lazy<Task<(TcpClient Client, SslStream Ssl)>>(() => ConnectAsync(host, port));
        var outbound = Sink.ForEachAsync<ByteString>(1, async bytes =>
        {
            var (_, ssl) = await connection.Value.ConfigureAwait(false);
            await bytes.WriteToAsync(ssl).ConfigureAwait(false);
        }).MapMaterializedValue(done =>
        {
            // Half-close once everything is written: the receiver sees the end of the transfer, then answers.
            done.ContinueWith(async _ =>
            {
                var (client, ssl) = await connection.Value.ConfigureAwait(false);
                await ssl.ShutdownAsync().ConfigureAwait(false);
                client.Client.Shutdown(SocketShutdown.Send);
            }, TaskScheduler.Default);
            return NotUsed.Instance;
        });
        var inbound = Read(async () => (await connection.Value.ConfigureAwait(false)).Ssl);
        return Flow.FromSinkAndSource(outbound, inbound);
    }

    /// <summary>What arrives on a TLS stream, as chunks copied out of one read buffer per connection.</summary>
    private static Source<ByteString, NotUsed> Read(Func<Task<SslStream>> stream)
    {
        var buffer = new byte[ChunkSize];
        return Source.UnfoldAsync(0, async _ =>
        {
            var n = await (await stream().ConfigureAwait(false)).ReadAsync(buffer).ConfigureAwait(false);
            return n == 0 ? Akka.Util.Option<(int, ByteString)>.None
                : Akka.Util.Option<(int, ByteString)>.Create((0, ByteString.CopyFrom(buffer, 0, n)));
        });
    }

    private async Task<(TcpClient Client, SslStream Ssl)> ConnectAsync(string host, int port)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(host, port).ConfigureAwait(false);
        var ssl = new SslStream(client.GetStream(), leaveInnerStreamOpen: false,
            (_, presented, _, _) => presented is not null
                && string.Equals(Convert.ToHexString(SHA256.HashData(presented.GetRawCertData())), pinnedSha256,
                StringComparison.OrdinalIgnoreCase));
        await ssl.AuthenticateAsClientAsync(host).ConfigureAwait(false);
        return (client, ssl);
    }

    private static async Task ServeAsync(TcpClient client, X509Certificate2 serverCertificate,
        Flow<ByteString, ByteString, NotUsed> handler, TimeSpan handshakeTimeout, IMaterializer materializer)
    {
        var ssl = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            // A peer that never finishes the handshake must not hold the connection (and its slot) for ever.
            Exception? refused = null;
            using (var timeout = new CancellationTokenSource(handshakeTimeout))
            {
                try
                {
                    var options = new SslServerAuthenticationOptions { ServerCertificate = serverCertificate };
                    await ssl.AuthenticateAsServerAsync(options, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    // An IOException: the receiver reads a TimeoutException as its own "no hello".
                    refused = new IOException($"no TLS handshake within {handshakeTimeout.TotalSeconds:0.###} s");
                }
                catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                {
                    refused = new InvalidDataException("TLS handshake failed: " + e.Message, e);
                }
            }

            if (refused is not null)
            {
                // The receiver hears why (and logs it with the peer's address); nothing goes back over a failed handshake.
                await Source.Failed<ByteString>(refused).Via(handler).RunWith(Sink.Ignore<ByteString>(), materializer)
                    .ConfigureAwait(false);
                return;
            }

            await Read(() => Task.FromResult(ssl)).Via(handler).RunForeach(bytes => ssl.Write(bytes.ToArray()), materializer)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidDataException or TimeoutException)
        {
            // The transfer failed; the sender learns it from the closed connection.
        }
        finally
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            client.Dispose();
        }
    }

    private sealed class Binding(TcpListener listener, CancellationTokenSource stop) : IChannelBinding
    {
        public EndPoint LocalAddress => listener.LocalEndpoint;

        public ValueTask DisposeAsync()
        {
            stop.Cancel();
            listener.Stop();
            stop.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
