using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using Akka;
using Akka.Event;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace XcrCluster.DataChannel;

/// <summary>
/// The receiving end of a node's data channel: one listening port; each transfer is announced with
/// <see cref="Expect"/>, which issues a one-time token and names the sink its blocks go to. A connection must open
/// with the hello of an expected transfer and its token, else it is refused and logged; a token admits one
/// connection only and expires after <see cref="ChannelLimits.TicketLifetime"/>. The sender gets "ok" once the sink
/// has consumed every block, or the error. Peers not yet admitted cost at most a hello each, for at most the
/// handshake timeout, and at most <see cref="ChannelLimits.MaxConnections"/> connections are open at once.
/// </summary>
public sealed class ChannelReceiver : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Expected> expected = new(StringComparer.Ordinal);
    private readonly IMaterializer materializer;
    private readonly ILoggingAdapter log;
    private readonly ChannelLimits limits;
    private IChannelBinding? binding;
    private long transfers;
    private long bytes;
    private int open;

    public ChannelReceiver(IMaterializer materializer, ILoggingAdapter log, ChannelLimits? limits = null)
    {
        this.materializer = materializer;
        this.log = log;
        this.limits = (limits ?? new ChannelLimits()).Validated();
    }

    /// <summary>Transfers accepted and consumed to the end, and their block bytes (for a node's status).</summary>
    public (long Transfers, long Bytes) Received => (Interlocked.Read(ref transfers), Interlocked.Read(ref bytes));

    /// <summary>Tickets issued and not used, forgotten or expired yet (a failed run leaves none).</summary>
    public int Waiting => expected.Count;

    /// <summary>Connections open now (admitted transfers and peers still to say hello).</summary>
    public int Connections => Volatile.Read(ref open);

    /// <summary>Where frame buffers, and so the received blocks' buffers, come from: the shared pool unless set
    /// (tests count rents and returns with their own).</summary>
    public System.Buffers.ArrayPool<byte> BufferPool { get; init; } = System.Buffers.ArrayPool<byte>.Shared;

    /// <summary>Set when the receiver listens with TLS: tickets carry it for senders to pin.</summary>
    public string? TlsFingerprint { get; init; }

    /// <summary>The host tickets name (the node's --public-hostname when it listens on every address); the bound address
    /// when null.</summary>
    public string? AdvertisedHost { get; init; }

    /// <summary>The port tickets name, when senders reach this receiver through a port mapping (NAT, a container's
    /// published port) rather than at the port it listens on.</summary>
    public int? AdvertisedPort { get; init; }

    /// <summary>Where the channel listens (the bound address; port 0 resolved).</summary>
    public IPEndPoint Endpoint => (IPEndPoint)(binding ?? throw new InvalidOperationException("not started")).LocalAddress;

    public async Task StartAsync(IChannelTransport transport, string host, int port)
        => binding = await transport.BindAsync(host, port, new ChannelListener(Connection, limits.HandshakeTimeout), materializer)
            .ConfigureAwait(false);

    /// <summary>Announces a transfer: its blocks will go to <paramref name="sink"/> (which completes once they are
    /// consumed). Returns the ticket for the sender; unused, it is forgotten after the ticket lifetime.</summary>
    public ChannelTicket Expect(string transferId, Sink<PooledBlock, Task> sink)
    {
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        var ticket = new Expected(token, sink);
        if (!expected.TryAdd(transferId, ticket))
        {
            throw new InvalidOperationException($"transfer {transferId} is already expected");
        }

        ticket.Expiry = new Timer(_ => Expire(transferId, ticket), null, limits.TicketLifetime, Timeout.InfiniteTimeSpan);
        return new ChannelTicket(transferId, AdvertisedHost ?? Endpoint.Address.ToString(), AdvertisedPort ?? Endpoint.Port, token,
            TlsFingerprint);
    }

    /// <summary>Withdraws a transfer that will not come (its run failed or rolled back): its token is refused from
    /// now on. False when it was not expected (any more): used, expired or never issued.</summary>
    public bool Forget(string transferId)
    {
        if (!expected.TryRemove(transferId, out var ticket))
        {
            return false;
        }

        ticket.Expiry?.Dispose();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var transferId in expected.Keys)
        {
            Forget(transferId);
        }

        if (binding is not null)
        {
            await binding.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Expire(string transferId, Expected ticket)
    {
        ticket.Expiry?.Dispose();
        if (expected.TryRemove(new KeyValuePair<string, Expected>(transferId, ticket)))
        {
            log.Warning("data channel: transfer {0} expired: its ticket was not used within {1}; its token is refused from now on",
                transferId, limits.TicketLifetime);
        }
    }

    /// <summary>A new connection: refused at once beyond the limit; else it has the handshake timeout to say hello,
    /// and nothing larger than a hello is buffered before its token is accepted.</summary>
    private Flow<ByteString, ByteString, NotUsed>? Connection(EndPoint remote)
    {
        if (Interlocked.Increment(ref open) > limits.MaxConnections)
        {
            Interlocked.Decrement(ref open);
            log.Warning("data channel: refused a connection from {0}: {1} connections open already (the limit)",
                remote, limits.MaxConnections);
            return null;
        }

        var status = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var admitted = new TaskCompletionSource<ByteString>(TaskCreationOptions.RunContinuationsAsynchronously);
        var helloSeen = false;
        var inbound = Flow.Create<ByteString>()
            .IdleTimeout(limits.StallTimeout)
            .Via(new Deframer(Frames.MaxHello, BufferPool))
            .InitialTimeout(limits.HandshakeTimeout)
            .PrefixAndTail(1)
            .ToMaterialized(Sink.ForEach<(IImmutableList<Frame>, Source<Frame, NotUsed>)>(first =>
            {
                helloSeen = true;
                Accept(remote, first.Item1, first.Item2, status, admitted);
            }), Keep.Right)
            .MapMaterializedValue(done =>
            {
                done.ContinueWith(t =>
                {
                    var error = t.Exception?.GetBaseException();
                    var waited = Math.Min(limits.HandshakeTimeout.TotalSeconds, limits.StallTimeout.TotalSeconds);
                    var reason = error is TimeoutException && !helloSeen
                        ? $"no hello within {waited:0.###} s"
                        : error?.Message.Replace("data channel: ", "", StringComparison.Ordinal) ?? "the connection ended before the hello";
                    if (status.TrySetResult("error: " + reason) && !helloSeen)
                    {
                        log.Warning("data channel: refused a connection from {0}: {1}", remote, reason);
                    }
                }, TaskContinuationOptions.NotOnRanToCompletion);
                return NotUsed.Instance;
            });
        var beat = limits.StallTimeout / 3;
        var outbound = Source.Tick(beat, beat, Frames.EncodeAlive()).MapMaterializedValue(_ => NotUsed.Instance)
            .Merge(Source.FromTask(admitted.Task))
            .Merge(Source.FromTask(status.Task).Select(Frames.EncodeStatus), eagerComplete: true);
        return Flow.FromSinkAndSource(inbound, outbound).WatchTermination((_, closed) =>
        {
            closed.ContinueWith(_ => Interlocked.Decrement(ref open), TaskScheduler.Default);
            return NotUsed.Instance;
        });
    }

    private void Accept(EndPoint remote, IImmutableList<Frame> first, Source<Frame, NotUsed> rest, TaskCompletionSource<string> status,
        TaskCompletionSource<ByteString> admitted)
    {
        var hello = first.Count == 1 ? first[0] : null;
        var (transferId, token) = hello is { Type: Frames.Hello } ? Frames.DecodeHello(hello.Payload) : ("", "");
        hello?.Return();

        // One-time: the right token takes the transfer out (a replay finds nothing); a wrong one leaves it for the
        // real sender, so a stray connection cannot break a transfer. Tokens are 256 random bits: no guessing.
        if (!expected.TryGetValue(transferId, out var transfer) || !CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(transfer.Token), System.Text.Encoding.ASCII.GetBytes(token))
            || !expected.TryRemove(new KeyValuePair<string, Expected>(transferId, transfer)))
        {
            log.Warning("data channel: refused a connection from {0} (transfer {1}): {2}",
                remote, transferId.Length > 0 ? Printable(transferId) : "none: no hello",
                transfer is null ? "no such transfer expected (never issued, expired, forgotten or used already)" : "wrong token");
            status.TrySetResult("error: refused: unknown transfer or wrong or reused token");
            rest.RunWith(Sink.Cancelled<Frame>(), materializer);
            return;
        }

        transfer.Expiry?.Dispose();
        admitted.TrySetResult(Frames.EncodeGo()); // the sender holds its blocks back until it hears this
        var blocks = 0L;
        var received = 0L;
        var ended = false;
        var stream = rest.Concat(Source.Single(EndOfStream)).SelectMany(IEnumerable<PooledBlock> (frame) =>
            {
                if (ReferenceEquals(frame, EndOfStream))
                {
                    return ended ? [] : throw new InvalidDataException("data channel: the sender stopped before the end of the transfer");
                }

                switch (frame.Type)
                {
                    case Frames.Block or Frames.ZeroBlock or Frames.CompressedBlock when !ended:
                        var block = Frames.TakeBlock(frame); // the frame's buffer is the block's now: no second copy
                        blocks++;
                        received += block.Size;
                        return [block];
                    case Frames.End when !ended:
                        ended = true;
                        var sent = frame.Length == 8 ? System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(frame.Payload) : -1;
                        frame.Return();
                        return sent == blocks ? []
                            : throw new InvalidDataException($"data channel: {sent} blocks sent, {blocks} received");
                    default:
                        frame.Return();
                        throw new InvalidDataException($"data channel: unexpected frame '{(char)frame.Type}'");
                }
            });
        stream.RunWith(transfer.Sink, materializer).ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully)
            {
                Interlocked.Increment(ref transfers);
                Interlocked.Add(ref bytes, received);
            }

            status.TrySetResult(t.IsCompletedSuccessfully ? "ok" : "error: " + (t.Exception?.GetBaseException().Message ?? "cancelled"));
        }, TaskScheduler.Default);
    }

    /// <summary>A transfer id from a peer not yet admitted, fit for a log line: short, no control characters.</summary>
    private static string Printable(string text)
        => new([.. text.Take(120).Select(c => char.IsControl(c) ? '?' : c)]);

    /// <summary>Follows the last frame of a connection, so the check that the end frame came runs after every block.</summary>
    private static readonly Frame EndOfStream = new(0, [], 0, System.Buffers.ArrayPool<byte>.Shared);

    /// <summary>An issued ticket: its token, where its blocks go, and the timer that forgets it unused.</summary>
    private sealed class Expected(string token, Sink<PooledBlock, Task> sink)
    {
        public string Token { get; } = token;

        public Sink<PooledBlock, Task> Sink { get; } = sink;

        public Timer? Expiry { get; set; }
    }
}
