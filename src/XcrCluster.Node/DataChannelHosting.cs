using System.Security.Cryptography.X509Certificates;
using Akka.Hosting;
using Akka.Streams;
using XcrCluster.DataChannel;

namespace XcrCluster.Node;

/// <summary>Akka.Hosting composition of the node's data channel: the receiver (blocks of runs whose source pool another
/// node serves, for target pools this node serves), started with the actor system, and the transport this node's own
/// sends use (made from the system, so nothing has to exist before it).</summary>
public static class DataChannelHosting
{
    /// <summary>Starts the receiver as configured (TLS when a certificate is given); <paramref name="channel"/> completes
    /// with it once it listens, or with the reason it could not.</summary>
    public static AkkaConfigurationBuilder WithDataChannel(this AkkaConfigurationBuilder builder, NodeOptions options,
        TaskCompletionSource<ChannelReceiver> channel)
        => builder.AddStartup((system, _) =>
        {
            var certificate = options.DataTlsCertificate is { } path
                ? X509CertificateLoader.LoadPkcs12FromFile(path, Environment.GetEnvironmentVariable("XCR_DATA_TLS_PASSWORD"))
                : null;
            var fingerprint = certificate is null ? null : TlsChannelTransport.Fingerprint(certificate);
            var receiver = new ChannelReceiver(system.Materializer(), system.Log, options.DataLimits)
            {
                TlsFingerprint = fingerprint, AdvertisedHost = options.DataAdvertisedHost, AdvertisedPort = options.DataAdvertise?.Port,
            };
            // Akka.Streams' TCP bind resolves its host and refuses 0.0.0.0: on every address, the channel listens where the
            // public hostname points (where senders are told to connect).
            var host = NodeOptions.IsEverywhere(options.DataBind.Address)
                ? System.Net.Dns.GetHostAddresses(options.DataAdvertisedHost)[0].ToString()
                : options.DataBind.Address.ToString();
            receiver.StartAsync(certificate is null ? new TcpChannelTransport(system) : new TlsChannelTransport(certificate, fingerprint!),
                host, options.DataBind.Port)
                .ContinueWith(t => t.IsCompletedSuccessfully ? channel.TrySetResult(receiver)
                    : channel.TrySetException(t.Exception!.GetBaseException()), TaskScheduler.Default);
        });
}
