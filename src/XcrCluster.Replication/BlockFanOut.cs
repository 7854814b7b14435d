using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Vhd;

namespace XcrCluster.Replication;

/// <summary>
/// One read of a disk export feeding every target's import, as an Akka.Streams graph: VHD blocks parsed from
/// the export (pooled buffers) → the run's throttle → broadcast → per target a VHD writer with the exact length
/// (imports need Content-Length) over a bounded pipe to the import. The slowest healthy
/// target sets the pace (backpressure end to end); memory stays at a few blocks per target. A target that
/// fails or stalls is cut off with its own error and the others go on.
/// The source half (<see cref="Blocks"/>) and the target half (<see cref="TargetSink"/>) meet only at a
/// <see cref="PooledBlock"/> stream, so a network hop can go between them.
/// </summary>
public static class BlockFanOut
{
    private const long PipeBytes = 8L << 20;

    /// <summary>Where one target's copy of the stream goes: given the body stream and its length, imports it.</summary>
    public delegate Task ImportAsync(Stream body, long length, CancellationToken ct);

    /// <summary>Copies one export to every target; returns each target's error (null = imported). Errors of the
    /// export itself are thrown: no target can have succeeded.</summary>
    public static async Task<IReadOnlyList<Exception?>> CopyAsync(Stream export, IReadOnlyList<ImportAsync> targets, IMaterializer materializer,
        CancellationToken ct, Throttle? throttle = null)
    {
        var reader = await VhdStreamReader.OpenAsync(export, ct).ConfigureAwait(false);
        var parent = reader.Footer.DiskType == DiskType.Differencing
            ? new VhdParent(reader.Header.ParentUniqueId, reader.Header.ParentUnicodeName, reader.Header.ParentTimestamp)
            : null;
        var lanes = targets.Select(import => new Lane(import, reader, parent, ct)).ToList();
        var exportError = new ExportError();
        var blocks = Blocks(reader, lanes.Count, exportError, ct);
        if (throttle is not null)
        {
            blocks = blocks.SelectAsync(1, async block =>
            {
                await throttle.TakeAsync(block.Size, ct).ConfigureAwait(false);
                return block;
            });
        }

        var killSwitch = KillSwitches.Shared("copy");
        await using (ct.Register(() => killSwitch.Abort(new OperationCanceledException(ct))).ConfigureAwait(false))
        {
            RunnableGraph.FromGraph(GraphDsl.Create(b =>
            {
                var fan = b.Add(new Broadcast<PooledBlock>(lanes.Count, eagerCancel: false));
                b.From(blocks.Via(killSwitch.Flow<PooledBlock>())).To(fan.In);
                for (var i = 0; i < lanes.Count; i++)
                {
                    b.From(fan.Out(i)).To(TargetSink(lanes[i]));
                }

                return ClosedShape.Instance;
            })).Run(materializer);

            foreach (var lane in lanes)
            {
                await lane.Finished.ConfigureAwait(false);
            }
        }

        ct.ThrowIfCancellationRequested();
        exportError.ThrowIfAny();
        return lanes.Select(l => l.Error).ToList();
    }

    /// <summary>The source half: the export's blocks in pooled buffers, each shared by <paramref name="readers"/> targets.</summary>
    private static Source<PooledBlock, NotUsed> Blocks(VhdStreamReader reader, int readers, ExportError error, CancellationToken ct)
    {
        async IAsyncEnumerable<PooledBlock> Read()
        {
            while (true)
            {
                var buffer = PooledBlock.Rent((int)reader.Header.BlockTotalSize);
                VhdBlock? block;
                try
                {
                    block = await reader.ReadBlockAsync(buffer, ct).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    PooledBlock.Return(buffer);
                    error.Set(e);
                    throw;
                }

                if (block is null)
                {
                    PooledBlock.Return(buffer);
                    yield break;
                }

                yield return new PooledBlock(block.Value, buffer, readers);
            }
        }

        return Source.From(() => Read());
    }

    /// <summary>The target half: the lane's writer; the lane learns how its stream ended. A stalled import
    /// fails on its own (the XAPI client's stall guard), which completes its pipe so this lane stops holding the others.</summary>
    private static Sink<PooledBlock, NotUsed> TargetSink(Lane lane)
        => Flow.Create<PooledBlock>()
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
            .To(Sink.OnComplete<Done>(() => lane.End(null), lane.End));

    private sealed class ExportError
    {
        private ExceptionDispatchInfo? error;

        public void Set(Exception e) => error ??= ExceptionDispatchInfo.Capture(e);

        public void ThrowIfAny() => error?.Throw();
    }

    /// <summary>One target: a VHD writer over a bounded pipe whose reader is the import.</summary>
    private sealed class Lane
    {
        private readonly Pipe pipe = new(new PipeOptions(pauseWriterThreshold: PipeBytes, resumeWriterThreshold: PipeBytes / 2, useSynchronizationContext: false));
        private readonly VhdStreamWriter writer;
        private readonly Task import;
        private readonly TaskCompletionSource<Exception?> ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationToken ct;
        private bool started;

        public Lane(ImportAsync importAsync, VhdStreamReader reader, VhdParent? parent, CancellationToken ct)
        {
            this.ct = ct;
            writer = new VhdStreamWriter(pipe.Writer.AsStream(), reader.VirtualSize, reader.PresentBlocks.Order().ToList(), parent, reader.Header.BlockSize);
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
            Finished = FinishAsync();
        }

        public Exception? Error { get; private set; }

        /// <summary>Completes when the lane's stream ended and its import returned.</summary>
        public Task Finished { get; }

        public async Task WriteAsync(VhdBlock block)
        {
            if (import.IsFaulted)
            {
                await import.ConfigureAwait(false); // the import gave up (stalled, refused): cut this lane off now
            }

            await StartAsync().ConfigureAwait(false);
            await writer.WriteBlockAsync(block.Index, block.Data, block.Bitmap, ct).ConfigureAwait(false);
        }

        /// <summary>The stream of this lane ended: null when every block was written, else why not.</summary>
        public void End(Exception? error) => ended.TrySetResult(error);

        private async Task StartAsync()
        {
            if (!started)
            {
                started = true;
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
                    await StartAsync().ConfigureAwait(false);
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
                Error = error;
                await pipe.Writer.CompleteAsync(error).ConfigureAwait(false);
            }

            try
            {
                await import.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Error ??= e;
            }
        }
    }
}
