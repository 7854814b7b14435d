using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Akka;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Vhd;

namespace XcrCluster.Replication;

/// <summary>
/// The target half of a transfer: blocks in, a VHD of the exact length (imports need Content-Length) out. Blocks
/// wait in a bounded queue (8 MiB of blocks) that the import's body writer empties: it writes the VHD headers, each
/// block's bitmap and data from the block's own pooled buffer, and the footer straight onto the import's request
/// stream, and gives each block back once its bytes were written. Its task ends when the import returned, or fails
/// with the first error. A stalled import fails on its own (the XAPI client's stall guard); this sink then stops
/// taking blocks, so it never holds the other targets back.
/// The import (its XAPI task and HTTP request) starts with the stream's first block, or at its end for a disk
/// without blocks: a sink made and never run (a data channel ticket nobody used, a run that failed before its
/// first block) opens nothing on the pool. Every block the queue took goes back exactly once, however the lane ends.
/// Copies per block here: none (the HTTP stack hands a large write to the socket as it is); the same for a local
/// target and for one fed by the data channel.
/// </summary>
public static class ImportSink
{
    private const long QueueBytes = 8L << 20;

    /// <summary>Imports a body of a known length into the target disk: <c>writeBody</c> writes the body onto the
    /// stream given to it (once) and returns when it was all written.</summary>
    public delegate Task ImportAsync(Func<Stream, CancellationToken, Task> writeBody, long length, CancellationToken ct);

    /// <summary>A sink for one run of one stream (materialize it once).</summary>
    public static Sink<PooledBlock, Task> Create(VhdShape shape, ImportAsync import, CancellationToken ct)
    {
        var lane = new Lane(import, shape, ct);
        return Flow.Create<PooledBlock>()
            .SelectAsync(1, async block =>
            {
                await lane.WriteAsync(block).ConfigureAwait(false);
                return Done.Instance;
            })
            .To(Sink.OnComplete<Done>(() => lane.End(null), lane.End))
            .MapMaterializedValue(_ => lane.Finished);
    }

    /// <summary>One target: a bounded queue of blocks whose reader is the import's body, started by the first block.</summary>
    private sealed class Lane
    {
        private readonly Channel<PooledBlock> queue;
        private readonly VhdShape shape;
        private readonly ImportAsync importAsync;
        private readonly TaskCompletionSource<Exception?> ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationToken ct;
        private Task? import;
        private int bodies;
        private bool written;

        public Lane(ImportAsync importAsync, VhdShape shape, CancellationToken ct)
        {
            this.importAsync = importAsync;
            this.shape = shape;
            this.ct = ct;
            var blocks = (int)Math.Max(1, QueueBytes / Math.Max(1, shape.BlockSize));
            queue = Channel.CreateBounded<PooledBlock>(new BoundedChannelOptions(blocks)
            {
                SingleReader = false, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait,
            });
            Finished = FinishAsync();
        }

        /// <summary>Completes when the lane's stream ended and its import (if it started) returned; faults with the
        /// first error.</summary>
        public Task Finished { get; }

        /// <summary>Queues the block for the import (which releases it), or releases it here if the queue refused it.</summary>
        public async Task WriteAsync(PooledBlock block)
        {
            var queued = false;
            try
            {
                Start();
                await queue.Writer.WriteAsync(block, ct).ConfigureAwait(false);
                queued = true;
            }
            catch (ChannelClosedException)
            {
                await import!.ConfigureAwait(false); // the import gave up (stalled, refused): cut this lane off with its error
                throw Unwritten();
            }
            finally
            {
                if (!queued)
                {
                    block.Release();
                }
            }
        }

        /// <summary>The stream of this lane ended: null when every block was queued, else why not.</summary>
        public void End(Exception? error) => ended.TrySetResult(error);

        /// <summary>Opens the import, once: the stream has started.</summary>
        private void Start() => import ??= RunImportAsync();

        private async Task RunImportAsync()
        {
            try
            {
                await Task.Run(() => importAsync(WriteBodyAsync, Length, ct), ct).ConfigureAwait(false);
                if (!Volatile.Read(ref written))
                {
                    throw Unwritten();
                }
            }
            finally
            {
                // Nothing reads the queue any more: refuse further blocks and give back those it still holds. A body
                // writer the HTTP stack left running holds at most the block it is writing, and releases it itself.
                queue.Writer.TryComplete();
                while (queue.Reader.TryRead(out var left))
                {
                    left.Release();
                }
            }
        }

        private static InvalidOperationException Unwritten() => new("the import returned before its body was written");

        private long Length => VhdStreamWriter.ComputeLength(shape.VirtualSize, shape.PresentBlocks.Count, shape.BlockSize);

        /// <summary>The import's body: the VHD written onto <paramref name="output"/> from the queued blocks' own buffers.</summary>
        private async Task WriteBodyAsync(Stream output, CancellationToken token)
        {
            if (Interlocked.Increment(ref bodies) != 1)
            {
                throw new InvalidOperationException("the import's body was already written once");
            }

            var writer = new VhdStreamWriter(output, shape.VirtualSize, shape.PresentBlocks, shape.Parent, shape.BlockSize);
            await writer.WriteHeadersAsync(token).ConfigureAwait(false);
            while (await queue.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (queue.Reader.TryRead(out var block))
                {
                    try
                    {
                        await writer.WriteBlockAsync(block.Block.Index, block.Block.Data, block.Block.Bitmap, token).ConfigureAwait(false);
                    }
                    finally
                    {
                        block.Release();
                    }
                }
            }

            await writer.CompleteAsync(token).ConfigureAwait(false);
            Volatile.Write(ref written, true);
        }

        private async Task FinishAsync()
        {
            var error = await ended.Task.ConfigureAwait(false);
            if (error is AggregateException { InnerExceptions.Count: 1 } one)
            {
                error = one.InnerException; // the stream's stage wraps a failed write's task: the lane's error is the import's own
            }

            if (error is null)
            {
                Start(); // a disk without blocks: headers and footer only
            }

            queue.Writer.TryComplete(error); // the body writer ends with the footer, or fails with the stream's error
            try
            {
                if (import is not null)
                {
                    await import.ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                error ??= e;
            }

            if (error is not null)
            {
                ExceptionDispatchInfo.Throw(error);
            }
        }
    }
}
