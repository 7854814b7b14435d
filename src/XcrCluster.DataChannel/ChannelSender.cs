using Akka;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace XcrCluster.DataChannel;

/// <summary>The sending end: connects to the ticket's receiver, presents the one-time token, streams the blocks
/// with backpressure from the receiver's sink (LZ4 per block when asked: for WAN links and compressible disks),
/// and returns once the receiver says every block was consumed.
/// Block buffers are never released here: the socket may still hold them after a frame is emitted.</summary>
public static class ChannelSender
{
    public static async Task<long> SendAsync(IChannelTransport transport, ChannelTicket ticket, Source<PooledBlock, NotUsed> blocks, IMaterializer materializer,
        CancellationToken ct = default, TimeSpan? stallTimeout = null, bool compress = false)
    {
        var count = 0L;
        var bytes = 0L;
        var stall = stallTimeout ?? TimeSpan.FromSeconds(60);
        var lastProgress = Environment.TickCount64;
        var frames = Source.Single(Frames.EncodeHello(ticket.TransferId, ticket.Token))
            .Concat(blocks.Select(block =>
            {
                count++;
                bytes += block.Size;
                Interlocked.Exchange(ref lastProgress, Environment.TickCount64);
                return Frames.EncodeBlock(block.Block, compress);
            }))
            .Concat(Source.Single(ByteString.Empty))
            .Select(frame => frame.IsEmpty ? Frames.EncodeEnd(count) : frame) // the marker passes after every block was counted
            .BackpressureTimeout(stall);
        var killSwitch = KillSwitches.Shared("channel-" + ticket.TransferId);
        await using var cancel = ct.Register(() => killSwitch.Abort(new OperationCanceledException(ct)));
        Frame? reply;
        try
        {
            reply = await frames.Via(killSwitch.Flow<ByteString>())
                .Via(transport.Connect(ticket.Host, ticket.Port))
                .Via(new Deframer())
                .RunWith(Sink.FirstOrDefault<Frame>(), materializer).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && Environment.TickCount64 - Interlocked.Read(ref lastProgress) >= stall.TotalMilliseconds)
        {
            throw new TimeoutException($"data channel to {ticket.Host}:{ticket.Port}: stalled, no block taken for {stall.TotalSeconds:F0} s", e);
        }

        ct.ThrowIfCancellationRequested();
        if (reply is null)
        {
            throw new ChannelRefusedException($"data channel to {ticket.Host}:{ticket.Port}: the receiver closed without a status");
        }

        var status = Frames.DecodeText(reply.Payload);
        reply.Return();
        return status == "ok" ? bytes : throw new ChannelRefusedException($"data channel to {ticket.Host}:{ticket.Port}: {status}");
    }
}
