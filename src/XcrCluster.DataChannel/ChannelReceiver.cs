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
/// connection only. The sender gets "ok" once the sink has consumed every block, or the error.
/// </summary>
public sealed class ChannelReceiver : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Expected> expected = new(StringComparer.Ordinal);
    private readonly IMaterializer materializer;
    private readonly ILoggingAdapter log;
    private readonly TimeSpan stallTimeout;
    private IChannelBinding? binding;
    private long transfers;
    private long bytes;

    public ChannelReceiver(IMaterializer materializer, ILoggingAdapter log, TimeSpan? stallTimeout = null)
    {
        this.materializer = materializer;
        this.log = log;
        this.stallTimeout = stallTimeout ?? TimeSpan.FromSeconds(60);
    }

    /// <summary>Transfers accepted and consumed to the end, and their block bytes (for a node's status).</summary>
    public (long Transfers, long Bytes) Received => (Interlocked.Read(ref transfers), Interlocked.Read(ref bytes));

    /// <summary>Set when the receiver listens with TLS: tickets carry it for senders to pin.</summary>
    public string? TlsFingerprint { get; init; }

    /// <summary>The host tickets name (the node's --public-hostname when it listens on every address); the bound address
    /// when null.</summary>
    public string? AdvertisedHost { get; init; }

    /// <summary>Where the channel listens (the bound address; port 0 resolved).</summary>
    public IPEndPoint Endpoint => (IPEndPoint)(binding ?? throw new InvalidOperationException("not started")).LocalAddress;

    public async Task StartAsync(IChannelTransport transport, string host, int port)
        => binding = await transport.BindAsync(host, port, Handler, materializer).ConfigureAwait(false);

    /// <summary>Announces a transfer: its blocks will go to <paramref name="sink"/> (which completes once they are
    /// consumed). Returns the ticket for the sender.</summary>
    public ChannelTicket Expect(string transferId, Sink<PooledBlock, Task> sink)
    {
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        if (!expected.TryAdd(transferId, new Expected(token, sink)))
        {
            throw new InvalidOperationException($"transfer {transferId} is already expected");
        }

        return new ChannelTicket(transferId, AdvertisedHost ?? Endpoint.Address.ToString(), Endpoint.Port, token, TlsFingerprint);
    }

    /// <summary>Withdraws a transfer that will not come (the run failed before sending).</summary>
    public void Forget(string transferId) => expected.TryRemove(transferId, out _);

    public async ValueTask DisposeAsync()
    {
        if (binding is not null)
        {
            await binding.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Flow<ByteString, ByteString, NotUsed> Handler()
    {
        var status = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inbound = Flow.Create<ByteString>()
            .IdleTimeout(stallTimeout)
            .Via(new Deframer())
            .PrefixAndTail(1)
            .ToMaterialized(Sink.ForEach<(IImmutableList<Frame>, Source<Frame, NotUsed>)>(first => Accept(first.Item1, first.Item2, status)), Keep.Right)
            .MapMaterializedValue(done =>
            {
                done.ContinueWith(t => status.TrySetResult("error: " + (t.Exception?.GetBaseException().Message ?? "the connection ended before the hello")),
                    TaskContinuationOptions.NotOnRanToCompletion);
                return NotUsed.Instance;
            });
        var outbound = Source.FromTask(status.Task).Select(Frames.EncodeStatus);
        return Flow.FromSinkAndSource(inbound, outbound);
    }

    private void Accept(IImmutableList<Frame> first, Source<Frame, NotUsed> rest, TaskCompletionSource<string> status)
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
            log.Warning("data channel: refused a connection for transfer {0}: {1}", transferId.Length > 0 ? transferId : "(no hello)",
                transfer is null ? "no such transfer expected, or its token was used already" : "wrong token");
            status.TrySetResult("error: refused: unknown transfer or wrong or reused token");
            rest.RunWith(Sink.Cancelled<Frame>(), materializer);
            return;
        }

        var blocks = 0L;
        var received = 0L;
        var ended = false;
        var stream = rest.Concat(Source.Single(EndOfStream)).SelectMany(IEnumerable<PooledBlock> (frame) =>
            {
                if (frame == EndOfStream)
                {
                    return ended ? [] : throw new InvalidDataException("data channel: the sender stopped before the end of the transfer");
                }

                try
                {
                    switch (frame.Type)
                    {
                        case Frames.Block or Frames.ZeroBlock or Frames.CompressedBlock when !ended:
                            var buffer = PooledBlock.Rent(Frames.DecodedSize(frame.Type, frame.Payload));
                            blocks++;
                            var block = new PooledBlock(Frames.DecodeBlock(frame.Type, frame.Payload, buffer), buffer, 1);
                            received += block.Size;
                            return [block];
                        case Frames.End when !ended:
                            ended = true;
                            var sent = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(frame.Payload);
                            return sent == blocks ? [] : throw new InvalidDataException($"data channel: {sent} blocks sent, {blocks} received");
                        default:
                            throw new InvalidDataException($"data channel: unexpected frame '{(char)frame.Type}'");
                    }
                }
                finally
                {
                    frame.Return();
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

    /// <summary>Follows the last frame of a connection, so the check that the end frame came runs after every block.</summary>
    private static readonly Frame EndOfStream = new(0, [], 0);

    private sealed record Expected(string Token, Sink<PooledBlock, Task> Sink);
}
