using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.Vhd;

namespace XcrCluster.DataChannel.Tests;

/// <summary>The same channel over TLS (for WAN links): blocks arrive intact to a pinned receiver; a sender pinning
/// another certificate never gets in.</summary>
public sealed class TlsTests() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = WARNING")
{
    [Fact]
    public async Task Blocks_cross_a_pinned_tls_channel_and_a_wrong_pin_is_refused()
    {
        using var certificate = SelfSigned("receiver.xcr");
        var pin = TlsChannelTransport.Fingerprint(certificate);
        await using var receiver = new ChannelReceiver(Sys.Materializer(), Sys.Log);
        await receiver.StartAsync(new TlsChannelTransport(certificate, pin), "127.0.0.1", 0);

        var received = new List<string>();
        var ticket = receiver.Expect("tls-1", Sink.ForEach<PooledBlock>(b =>
        {
            received.Add(Convert.ToHexString(SHA256.HashData(b.Block.Data.Span)));
            b.Release();
        }).MapMaterializedValue(t => (Task)t));
        var blocks = Enumerable.Range(0, 6).Select(i => Block(i)).ToList();
        var sent = await ChannelSender.SendAsync(new TlsChannelTransport(null, pin), ticket,
            Source.From(blocks.Select(b => new PooledBlock(b, [], 1))), Sys.Materializer());

        Assert.Equal(6L * (512 + (1 << 20)), sent);
        Assert.Equal(blocks.Select(b => Convert.ToHexString(SHA256.HashData(b.Data.Span))), received);

        var other = receiver.Expect("tls-2", Sink.Ignore<PooledBlock>().MapMaterializedValue(t => (Task)t));
        using var impostor = SelfSigned("impostor.xcr");
        await Assert.ThrowsAnyAsync<System.Security.Authentication.AuthenticationException>(
            () => ChannelSender.SendAsync(new TlsChannelTransport(null, TlsChannelTransport.Fingerprint(impostor)), other,
            Source.Single(new PooledBlock(Block(9), [], 1)), Sys.Materializer(), stallTimeout: TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_peer_that_does_not_finish_the_tls_handshake_is_closed_and_logged_after_the_handshake_timeout()
    {
        using var certificate = SelfSigned("receiver.xcr");
        var pin = TlsChannelTransport.Fingerprint(certificate);
        var limits = new ChannelLimits { HandshakeTimeout = TimeSpan.FromSeconds(1) };
        await using var receiver = new ChannelReceiver(Sys.Materializer(), Sys.Log, limits);
        await receiver.StartAsync(new TlsChannelTransport(certificate, pin), "127.0.0.1", 0);

        using var peer = await RawPeer.ConnectAsync(receiver.Endpoint);
        var refusal = new Regex(@"refused a connection from 127\.0\.0\.1:\d+: no TLS handshake within 1 s");
        await EventFilter.Warning(refusal).ExpectOneAsync(async () =>
            Assert.True(await peer.ClosedWithinAsync(TimeSpan.FromSeconds(5)), "a peer silent in the TLS handshake stayed connected"));
        await AwaitConditionAsync(() => Task.FromResult(receiver.Connections == 0), TimeSpan.FromSeconds(5));
    }

    private static VhdBlock Block(int index)
    {
        var buffer = new byte[512 + (1 << 20)];
        new Random(index).NextBytes(buffer);
        return new VhdBlock(index, buffer.AsMemory(0, 512), buffer.AsMemory(512));
    }

    internal static X509Certificate2 SelfSigned(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null); // a key SslStream can use on Linux
    }
}
