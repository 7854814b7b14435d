using Akka;
using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;

namespace XcrCluster.Node;

/// <summary>The node's TCP data channel transport, made once the actor system exists (the executor is built
/// before it, while the node is composed).</summary>
public sealed class LazyTransport(Func<ActorSystem> system) : IChannelTransport
{
    private readonly Lazy<TcpChannelTransport> tcp = new(() => new TcpChannelTransport(system()));

    public Task<IChannelBinding> BindAsync(string host, int port, ChannelListener listener, IMaterializer materializer)
        => tcp.Value.BindAsync(host, port, listener, materializer);

    public Flow<ByteString, ByteString, NotUsed> Connect(string host, int port) => tcp.Value.Connect(host, port);
}
