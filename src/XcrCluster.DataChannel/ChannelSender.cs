using Akka;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace XcrCluster.DataChannel;

/// <summary>The sending end: connects to the ticket's receiver, presents the one-time token, streams the blocks
/// with backpressure from the receiver's sink (LZ4 per block when asked: for WAN links and compressible disks),
/// and ends once the receiver says every block was consumed.
/// Each block is released once its frame is written to the socket (<see cref="BlockEncoder"/>): blocks stay pooled
/// across nodes, and the frame shares the block's memory, so the sender copies no block (the kernel's copy into
/// the socket aside).</summary>
public static class ChannelSender
{
    /// <summary>Sends a source of blocks; returns the block bytes sent.</summary>
    public static Task<long> SendAsync(IChannelTransport transport, ChannelTicket ticket, Source<PooledBlock, NotUsed> blocks,
        IMaterializer materializer, CancellationToken ct = default, TimeSpan? stallTimeout = null, bool compress = false)
        => blocks.RunWith(Sink(transport, ticket, ct, stallTimeout, compress), materializer);

    /// <summary>The channel as a sink (a target of the run's fan-out on another node): its task ends with the block
    /// bytes sent once the receiver has consumed them, or fails (refused, stalled, the receiver's error).</summary>
    public static Sink<PooledBlock, Task<long>> Sink(IChannelTransport transport, ChannelTicket ticket, CancellationToken ct = default,
        TimeSpan? stallTimeout = null, bool compress = false)
    {
        var bytes = 0L;
        var stall = stallTimeout ?? TimeSpan.FromSeconds(60);
        var lastProgress = Environment.TickCount64;
        var killSwitch = KillSwitches.Shared("channel-" + ticket.TransferId);
        var admitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Flow.Create<PooledBlock>()
            .Via(new AdmissionGate(admitted.Task))
            .Via(new BlockEncoder(compress, block =>
            {
                bytes += block.Size;
                Interlocked.Exchange(ref lastProgress, Environment.TickCount64);
            }))
            .Prepend(Source.Single(Frames.EncodeHello(ticket.TransferId, ticket.Token)))
            .BackpressureTimeout(stall)
            .Via(killSwitch.Flow<ByteString>())
            .Via(transport.Connect(ticket.Host, ticket.Port))
            .Via(new Deframer())
            .IdleTimeout(stall)
            .Where(frame => frame.Type switch
            {
                Frames.Alive => Discard(frame),
                Frames.Go => Discard(frame, admitted.TrySetResult),
                _ => Refused(admitted), // the status: without a Go before it, the blocks never leave
            })
            .ToMaterialized(Akka.Streams.Dsl.Sink.FirstOrDefault<Frame>(), Keep.Right)
            .MapMaterializedValue(reply => Finish(Closed(reply, admitted), ticket, ct, () => bytes, stall,
                () => Interlocked.Read(ref lastProgress), killSwitch));
    }

    /// <summary>Gives an Alive or Go frame's buffer back (after its effect); false, so the frame is filtered out.</summary>
    private static bool Discard(Frame frame, Func<bool>? effect = null)
    {
        effect?.Invoke();
        frame.Return();
        return false;
    }

    private static bool Refused(TaskCompletionSource admitted)
    {
        admitted.TrySetException(new ChannelRefusedException("data channel: the receiver did not admit the transfer"));
        return true;
    }

    /// <summary>The reply, once the gate is shut for good if it never opened (the receiver closed, the link failed):
    /// the held-back blocks are cancelled instead of waiting on a connection nobody reads.</summary>
    private static async Task<Frame> Closed(Task<Frame> reply, TaskCompletionSource admitted)
    {
        try
        {
            return await reply.ConfigureAwait(false);
        }
        finally
        {
            Refused(admitted);
        }
    }

    private static async Task<long> Finish(Task<Frame> replyTask, ChannelTicket ticket, CancellationToken ct, Func<long> bytes,
        TimeSpan stall, Func<long> lastProgress, SharedKillSwitch killSwitch)
    {
        Frame? reply;
        await using (ct.Register(() => killSwitch.Abort(new OperationCanceledException(ct))).ConfigureAwait(false))
        {
            try
            {
                reply = await replyTask.ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && Environment.TickCount64 - lastProgress() >= stall.TotalMilliseconds)
            {
                // Either the link stopped taking blocks, or, all of them sent, nothing came back (not even the receiver's
                // Alive beats): both mean the link or the receiver is gone.
                throw new TimeoutException($"data channel to {ticket.Host}:{ticket.Port}: no data moved for {stall.TotalSeconds:F0} s "
                    + (e.GetBaseException().Message.Contains("demand", StringComparison.OrdinalIgnoreCase)
                        ? "(no block taken)" : "(nothing heard from the receiver)"), e);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); // what failed, not the task wrapper
                throw;
            }
        }

        ct.ThrowIfCancellationRequested();
        if (reply is null)
        {
            throw new ChannelRefusedException($"data channel to {ticket.Host}:{ticket.Port}: the receiver closed without a status");
        }

        var status = Frames.DecodeText(reply.Payload);
        reply.Return();
        return status == "ok" ? bytes() : throw new ChannelRefusedException($"data channel to {ticket.Host}:{ticket.Port}: {status}");
    }
}
