using System.Net;
using Akka;
using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace XcrCluster.DataChannel;

/// <summary>How channel bytes travel between nodes. Plain TCP on a trusted network; a TLS transport (SslStream)
/// implements the same interface for WAN links.</summary>
public interface IChannelTransport
{
    /// <summary>Listens on host:port (0 = any free port); each connection is handled as <paramref name="listener"/> says.</summary>
    Task<IChannelBinding> BindAsync(string host, int port, ChannelListener listener, IMaterializer materializer);

    /// <summary>A connection: bytes in are sent, bytes out are what the peer answers; the write side half-closes
    /// when the input completes. Its input asks for the next element only once the last one is written (no buffer
    /// ahead of the socket): the sender gives a block's pooled buffer back on that demand (<see cref="BlockEncoder"/>).</summary>
    Flow<ByteString, ByteString, NotUsed> Connect(string host, int port);
}

/// <summary>What a receiver asks of its transport. <paramref name="Connection"/> is called once per accepted connection
/// with the peer's address and gives the flow that handles it, or null: the connection is closed at once (over the
/// limit). A transport's own handshake (TLS) must end within <paramref name="HandshakeTimeout"/>; one that fails
/// runs the connection's flow with its inbound failed by the reason, so the receiver logs it and counts the
/// connection closed.</summary>
public sealed record ChannelListener(Func<EndPoint, Flow<ByteString, ByteString, NotUsed>?> Connection, TimeSpan HandshakeTimeout);

public interface IChannelBinding : IAsyncDisposable
{
    EndPoint LocalAddress { get; }
}

/// <summary>Akka.Streams TCP (Tcp.Bind / OutgoingConnection): 1.1-1.4 GB/s here with the akka.io.tcp buffers of
/// hocon/base.hocon, against 60-90 MB/s for StreamRefs over Akka.Remote (docs/engineering-notes.md §1).</summary>
public sealed class TcpChannelTransport(ActorSystem system) : IChannelTransport
{
    public async Task<IChannelBinding> BindAsync(string host, int port, ChannelListener listener, IMaterializer materializer)
    {
        var binding = await system.TcpStream().Bind(host, port)
            .To(Sink.ForEach<Akka.Streams.Dsl.Tcp.IncomingConnection>(connection => connection.HandleWith(
                listener.Connection(connection.RemoteAddress) ?? Refused, materializer)))
            .Run(materializer).ConfigureAwait(false);
        return new Binding(binding);
    }

    /// <summary>A connection over the limit: told so, then closed (writing done closes it: no half-close on
    /// accepted connections). Cancelling its reading at once instead left some connections open.</summary>
    private static Flow<ByteString, ByteString, NotUsed> Refused
        => Flow.FromSinkAndSource(Sink.Ignore<ByteString>().MapMaterializedValue(_ => NotUsed.Instance),
            Source.Single(Frames.EncodeStatus("error: refused: the receiver takes no more connections now")));

    public Flow<ByteString, ByteString, NotUsed> Connect(string host, int port)
        => system.TcpStream().OutgoingConnection(new DnsEndPoint(host, port), halfClose: true).MapMaterializedValue(_ => NotUsed.Instance);

    private sealed class Binding(Akka.Streams.Dsl.Tcp.ServerBinding binding) : IChannelBinding
    {
        public EndPoint LocalAddress => binding.LocalAddress;

        public async ValueTask DisposeAsync() => await binding.Unbind().ConfigureAwait(false);
    }
}
