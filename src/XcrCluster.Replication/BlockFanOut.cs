using System.IO.Pipelines;
using XcrCluster.Vhd;

namespace XcrCluster.Replication;

/// <summary>
/// One read of a disk export feeding every target's import: the VHD stream is parsed block by block and
/// re-emitted to each target with its exact length (imports need Content-Length), through a bounded pipe per
/// target so the slowest target sets the pace (backpressure) and memory stays at a few blocks per target.
/// A target that fails is cut off; the others go on.
/// </summary>
public static class BlockFanOut
{
    private const long PipeBytes = 8L << 20;

    /// <summary>Where one target's copy of the stream goes: given the body stream and its length, imports it.</summary>
    public delegate Task ImportAsync(Stream body, long length, CancellationToken ct);

    /// <summary>Copies one export to every target; <paramref name="throttle"/> (the run's maxExportRate) paces the reads.</summary>
    public static async Task<IReadOnlyList<Exception?>> CopyAsync(Stream export, IReadOnlyList<ImportAsync> targets, CancellationToken ct, Throttle? throttle = null)
    {
        var reader = await VhdStreamReader.OpenAsync(export, ct).ConfigureAwait(false);
        var parent = reader.Footer.DiskType == DiskType.Differencing
            ? new VhdParent(reader.Header.ParentUniqueId, reader.Header.ParentUnicodeName, reader.Header.ParentTimestamp)
            : null;
        var lanes = targets.Select(import => new Lane(import, reader, parent, ct)).ToList();
        while (await reader.ReadBlockAsync(ct).ConfigureAwait(false) is { } block)
        {
            if (throttle is not null)
            {
                await throttle.TakeAsync(block.Data.Length + block.Bitmap.Length, ct).ConfigureAwait(false);
            }

            foreach (var lane in lanes)
            {
                await lane.WriteAsync(block, ct).ConfigureAwait(false);
            }

            if (lanes.All(l => l.Error is not null))
            {
                break;
            }
        }

        foreach (var lane in lanes)
        {
            await lane.CompleteAsync(ct).ConfigureAwait(false);
        }

        return lanes.Select(l => l.Error).ToList();
    }

    private sealed class Lane
    {
        private readonly Pipe pipe = new(new PipeOptions(pauseWriterThreshold: PipeBytes, resumeWriterThreshold: PipeBytes / 2, useSynchronizationContext: false));
        private readonly VhdStreamWriter writer;
        private readonly Task import;
        private bool started;

        public Lane(ImportAsync importAsync, VhdStreamReader reader, VhdParent? parent, CancellationToken ct)
        {
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
        }

        public Exception? Error { get; private set; }

        public async Task WriteAsync(VhdBlock block, CancellationToken ct)
        {
            if (Error is not null)
            {
                return;
            }

            try
            {
                if (!started)
                {
                    started = true;
                    await writer.WriteHeadersAsync(ct).ConfigureAwait(false);
                }

                await writer.WriteBlockAsync(block.Index, block.Data, block.Bitmap, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                await FailAsync(e).ConfigureAwait(false);
            }
        }

        public async Task CompleteAsync(CancellationToken ct)
        {
            if (Error is null)
            {
                try
                {
                    if (!started)
                    {
                        started = true;
                        await writer.WriteHeadersAsync(ct).ConfigureAwait(false);
                    }

                    await writer.CompleteAsync(ct).ConfigureAwait(false);
                    await pipe.Writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    await FailAsync(e).ConfigureAwait(false);
                }
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

        private async Task FailAsync(Exception e)
        {
            Error = e;
            await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
        }
    }
}
