using System.Runtime.ExceptionServices;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Vhd;

namespace XcrCluster.Replication;

/// <summary>
/// One read of a disk export feeding every target, as an Akka.Streams graph: VHD blocks parsed from the export
/// (pooled buffers) → the run's throttle → broadcast → one sink per target. A target's sink is its import
/// (<see cref="ImportSink"/>: a bounded queue of blocks whose import writes the VHD, exact length, from the blocks'
/// own buffers onto its HTTP request) or, for a target on another node, the data channel to it. The slowest healthy
/// target sets the pace (backpressure end to end); memory stays at a few blocks per target; a target that fails or
/// stalls is cut off with its own error and the others go on.
/// Copies of a block's bytes made in this process (the kernel's socket copies aside): a local target: export into
/// the pooled block (1); the import's body writer hands the block's own buffer to the HTTP request stream, which
/// passes a write that large to the socket as it is (0; over TLS, the encryption writes into SslStream's buffer).
/// A target on another node: export into the pooled block (1); the sender's frame shares the block and gives it back
/// once the socket has it (0); on the far node, the TCP chunks (Akka IO's own copy out of its receive buffer) into
/// the frame's pooled buffer, which becomes the block (1), then the same import as a local target (0). So each node
/// copies a block once, as the plain HttpClient pipe does. Before issue 16 the import added two copies (into a pipe
/// by the VHD writer, out of it into StreamContent's buffer); before issue 13 the far node also decoded every frame
/// into a second pooled buffer, and the sender never gave its blocks back to the pool (a fresh buffer per block).
/// </summary>
public static class BlockFanOut
{
    /// <summary>A target's sink for a stream of this shape (a remote target first asks its node for a ticket); the
    /// sink's task ends when the target has everything, or fails.</summary>
    public delegate Task<Sink<PooledBlock, Task>> TargetSink(VhdShape shape);

    /// <summary>Copies one export to every target; returns each target's error (null = imported). Errors of the
    /// export itself are thrown: no target can have succeeded. With <paramref name="progress"/> (one lane per
    /// target, in order) each target's bytes are counted as its sink takes them.</summary>
    public static async Task<IReadOnlyList<Exception?>> CopyAsync(Stream export, IReadOnlyList<TargetSink> targets, IMaterializer materializer,
        CancellationToken ct, Throttle? throttle = null, DiskProgress? progress = null)
    {
        var reader = await VhdStreamReader.OpenAsync(export, ct).ConfigureAwait(false);
        var shape = VhdShape.Of(reader);
        var lanes = progress?.Start((long)reader.PresentBlocks.Count * reader.Header.BlockTotalSize);
        var exportError = new ExportError();
        var blocks = Blocks(reader, targets.Count, exportError, ct);
        if (throttle is not null)
        {
            blocks = blocks.SelectAsync(1, async block =>
            {
                await throttle.TakeAsync(block.Size, ct).ConfigureAwait(false);
                return block;
            });
        }

        var errors = new Exception?[targets.Count];
        var sinks = new Sink<PooledBlock, Task>[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            try
            {
                sinks[i] = await targets[i](shape).ConfigureAwait(false);
                if (lanes?[i] is { } lane)
                {
                    sinks[i] = Flow.Create<PooledBlock>().Select(block =>
                    {
                        lane.Add(block.Size);
                        return block;
                    }).ToMaterialized(sinks[i], Keep.Right);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                errors[i] = e; // this target is out before the first block; the others go on
                sinks[i] = Sink.Cancelled<PooledBlock>().MapMaterializedValue(_ => Task.CompletedTask);
            }
        }

        var killSwitch = KillSwitches.Shared("copy");
        var done = new Task[targets.Count];
        await using (ct.Register(() => killSwitch.Abort(new OperationCanceledException(ct))).ConfigureAwait(false))
        {
            RunnableGraph.FromGraph(GraphDsl.Create(b =>
            {
                var fan = b.Add(new Broadcast<PooledBlock>(targets.Count, eagerCancel: false));
                b.From(blocks.Via(killSwitch.Flow<PooledBlock>())).To(fan.In);
                for (var i = 0; i < targets.Count; i++)
                {
                    var k = i;
                    b.From(fan.Out(i)).To(sinks[i].MapMaterializedValue(task =>
                    {
                        done[k] = task;
                        return NotUsed.Instance;
                    }));
                }

                return ClosedShape.Instance;
            })).Run(materializer);

            for (var i = 0; i < targets.Count; i++)
            {
                try
                {
                    await done[i].ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    errors[i] ??= e;
                }
            }

            ct.ThrowIfCancellationRequested();
            exportError.ThrowIfAny();
            return errors;
        }
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

    private sealed class ExportError
    {
        private ExceptionDispatchInfo? error;

        public void Set(Exception e) => error ??= ExceptionDispatchInfo.Capture(e);

        public void ThrowIfAny() => error?.Throw();
    }
}
