using System.IO.Pipelines;
using Akka;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Vhd;

namespace XcrCluster.Replication;

/// <summary>
/// The target half of a transfer: blocks in, a VHD stream of the exact length (imports need Content-Length)
/// written over a bounded pipe read by the import. Its task ends when the import returned, or fails with the first
/// error. A stalled import fails on its own (the XAPI client's stall guard); this sink then stops taking blocks,
/// so it never holds the other targets back.
/// The import (its XAPI task and HTTP request) starts with the stream's first block, or at its end for a disk
/// without blocks: a sink made and never run (a data channel ticket nobody used, a run that failed before its
/// first block) opens nothing on the pool.
/// Copies per block here: one into the pipe (the VHD writer), one out of it into the import's HTTP buffer; the
/// same for a local target and for one fed by the data channel.
/// </summary>
public static class ImportSink
{
    private const long PipeBytes = 8L << 20;

    /// <summary>Imports a body of a known length into the target disk.</summary>
    public delegate Task ImportAsync(Stream body, long length, CancellationToken ct);

    /// <summary>A sink for one run of one stream (materialize it once).</summary>
    public static Sink<PooledBlock, Task> Create(VhdShape shape, ImportAsync import, CancellationToken ct)
    {
        var lane = new Lane(import, shape, ct);
        return Flow.Create<PooledBlock>()
            .SelectAsync(1, async block =>
            {
                try
                {
                    await lane.WriteAsync(block.Block).ConfigureAwait(false);
                }
                finally
                {
                    block.Release();
                }

                return Done.Instance;
            })
            .To(Sink.OnComplete<Done>(() => lane.End(null), lane.End))
            .MapMaterializedValue(_ => lane.Finished);
    }

    /// <summary>One target: a VHD writer over a bounded pipe whose reader is the import, started by the first write.</summary>
    private sealed class Lane
    {
        private readonly Pipe pipe = new(new PipeOptions(pauseWriterThreshold: PipeBytes, resumeWriterThreshold: PipeBytes / 2, useSynchronizationContext: false));
        private readonly VhdStreamWriter writer;
        private readonly ImportAsync importAsync;
        private readonly TaskCompletionSource<Exception?> ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationToken ct;
        private Task? import;

        public Lane(ImportAsync importAsync, VhdShape shape, CancellationToken ct)
        {
            this.importAsync = importAsync;
            this.ct = ct;
            writer = new VhdStreamWriter(pipe.Writer.AsStream(), shape.VirtualSize, shape.PresentBlocks, shape.Parent, shape.BlockSize);
            Finished = FinishAsync();
        }

        /// <summary>Completes when the lane's stream ended and its import (if it started) returned; faults with the
        /// first error.</summary>
        public Task Finished { get; }

        public async Task WriteAsync(VhdBlock block)
        {
            if (import is { IsFaulted: true })
            {
                await import.ConfigureAwait(false); // the import gave up (stalled, refused): cut this lane off now
            }

            await StartAsync().ConfigureAwait(false);
            await writer.WriteBlockAsync(block.Index, block.Data, block.Bitmap, ct).ConfigureAwait(false);
        }

        /// <summary>The stream of this lane ended: null when every block was written, else why not.</summary>
        public void End(Exception? error) => ended.TrySetResult(error);

        /// <summary>Opens the import and writes the VHD headers, once: the stream has started.</summary>
        private async Task StartAsync()
        {
            if (import is null)
            {
                import = Task.Run(async () =>
                {
                    var body = pipe.Reader.AsStream();
                    try
                    {
                        await importAsync(body, writer.Length, ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        await pipe.Reader.CompleteAsync().ConfigureAwait(false);
                    }
                }, ct);
                await writer.WriteHeadersAsync(ct).ConfigureAwait(false);
            }
        }

        private async Task FinishAsync()
        {
            var error = await ended.Task.ConfigureAwait(false);
            if (error is null)
            {
                try
                {
                    await StartAsync().ConfigureAwait(false); // a disk without blocks: headers and footer only
                    await writer.CompleteAsync(ct).ConfigureAwait(false);
                    await pipe.Writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    error = e;
                }
            }

            if (error is not null)
            {
                await pipe.Writer.CompleteAsync(error).ConfigureAwait(false);
            }

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
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }
        }
    }
}
