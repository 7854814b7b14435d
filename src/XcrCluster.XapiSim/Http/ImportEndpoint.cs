using System.Buffers;
using XcrCluster.Vhd;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// PUT /import_raw_vdi[/]?vdi=&amp;format=vhd|raw: answers 200 before reading the body, as XAPI does; writes
/// into a staged copy of the VDI's file (VHD: only sectors whose bitmap bit is set; raw: every non-zero
/// range) and swaps it in only when the whole body arrived, so a failure or a crash leaves the VDI as it was.
/// On a null SR the body is read, parsed and checked the same way, and only its content hash is kept.
/// An empty body without task_id is the npm client's probe: 200 and nothing changes.
/// </summary>
internal static class ImportEndpoint
{
    private const int RawChunk = VhdConstants.DefaultBlockSize;

    public static async Task HandleAsync(SimServer server, HttpContext context)
    {
        var pool = server.Pool;
        using var transfer = await HttpTransfer.BeginAsync(server, context, "/import_raw_vdi", "VDI import");
        if (transfer is null)
        {
            return;
        }

        XapiObject vdi;
        string format;
        try
        {
            format = transfer.Format();
            vdi = transfer.Vdi();
            if (context.Request.Headers.TransferEncoding.Count > 0)
            {
                throw new XapiException("INTERNAL_ERROR", "Cannot handle encoding");
            }

            if (format == "vhd" && transfer.Query("chunked").Length > 0)
            {
                throw new XapiException("INTERNAL_ERROR", "Cannot handle chunked VHD");
            }
        }
        catch (XapiException e)
        {
            await transfer.FailAsync(e);
            return;
        }

        var length = context.Request.ContentLength ?? 0;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.Connection = "close";
        context.Response.Headers.ContentType = "application/octet-stream";
        await context.Response.StartAsync(context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        if (length == 0)
        {
            // The probe (no task_id) changes nothing; a real import of nothing is an I/O error.
            if (transfer.CallerTask)
            {
                Rpc.Tasks.Fail(pool.Db, transfer.Task, new XapiException("VDI_IO_ERROR", "Device I/O errors", "empty body"));
            }

            return;
        }

        try
        {
            await ImportAsync(transfer, vdi, format, length);
        }
        catch (Exception e) when (e is XapiException or VhdFormatException)
        {
            // The disk refused the data (SR full, bad VHD): the task says why; the rest of the body is read and
            // dropped so the client sees the 200 it was promised and then the task's error.
            Rpc.Tasks.Fail(pool.Db, transfer.Task, e as XapiException ?? new XapiException("VDI_IO_ERROR", "Device I/O errors", e.Message));
            await DrainAsync(context);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            Rpc.Tasks.Fail(pool.Db, transfer.Task, new XapiException("VDI_IO_ERROR", "Device I/O errors", e.Message));
            context.Abort();
        }
    }

    private static async Task DrainAsync(HttpContext context)
    {
        try
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            context.Abort();
        }
    }

    private static async Task ImportAsync(HttpTransfer transfer, XapiObject vdi, string format, long length)
    {
        var pool = transfer.Pool;
        SrStorage storage;
        List<string> pinned;
        lock (pool.Db.Sync)
        {
            var sr = pool.Db.Get(Schemas.Sr, vdi.Str("SR"));
            Vdis.EnsureSpace(pool, sr, Math.Min(length, vdi.Int("virtual_size")));
            storage = pool.StorageOf(sr);
            pinned = storage.Chain(vdi.Str("location")).Select(l => l.Name).ToList();
            storage.Pin(pinned);
        }

        try
        {
            var faults = pool.Faults;
            var context = transfer.Context;
            var cut = WireCut.Reset(context, faults.ResetImportAfterBytes);
            var agent = context.Request.Headers.UserAgent.ToString();
            await using var wire = new ShapedStream(context.Request.Body, faults.ImportBytesPerSecond, cut,
                n => pool.Stats.Imported("/import_raw_vdi", vdi.Uuid, n, agent));
            using (var staging = storage.BeginImport(vdi.Str("location"), vdi.Int("virtual_size")))
            {
                var progress = new Action<long>(done => transfer.SetProgress((double)done / length));
                if (format == "vhd")
                {
                    await ApplyVhdAsync(wire, staging, progress, context.RequestAborted);
                }
                else
                {
                    await ApplyRawAsync(wire, staging, length, progress, context.RequestAborted);
                }

                if (transfer.IsCancelling)
                {
                    throw new XapiException(Rpc.Tasks.Cancelled, transfer.Task.Ref);
                }

                staging.Commit();
            }

            lock (pool.Db.Sync)
            {
                Vdis.RefreshUsage(pool, pool.Db.Get(Schemas.Sr, vdi.Str("SR")), vdi);
            }

            pool.SaveIfDirty();
            transfer.Complete(vdi.Ref);
        }
        finally
        {
            storage.Unpin(pinned);
        }
    }

    private static async Task ApplyVhdAsync(Stream wire, ImportTarget target, Action<long> progress, CancellationToken ct)
    {
        var reader = await VhdStreamReader.OpenAsync(wire, ct);
        if (reader.Header.BlockSize != target.BlockSize)
        {
            throw new XapiException("VDI_IO_ERROR", "Device I/O errors",
                $"block size {reader.Header.BlockSize} differs from the VDI's {target.BlockSize}");
        }

        target.Expect(reader.PresentBlocks);

        // One pooled buffer per import for every block (bitmap and data), not a fresh 2 MiB array per import.
        var buffer = ArrayPool<byte>.Shared.Rent((int)reader.Header.BlockTotalSize);
        try
        {
            while (await reader.ReadBlockAsync(buffer, ct) is { } block)
            {
                if (block.Index >= target.BlockCount)
                {
                    throw new XapiException("VDI_IO_ERROR", "Device I/O errors", $"block {block.Index} is beyond the end of the VDI");
                }

                target.WriteBlock(block.Index, block.Bitmap.Span, block.Data.Span);
                progress(reader.Position);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        // Whatever follows the trailing footer is not part of the disk; read it so the client can finish.
        await wire.CopyToAsync(Stream.Null, ct);
    }

    private static async Task ApplyRawAsync(Stream wire, ImportTarget target, long length, Action<long> progress, CancellationToken ct)
    {
        if (length > target.VirtualSize)
        {
            throw new XapiException("VDI_IO_ERROR", "Device I/O errors", $"{length} bytes do not fit a {target.VirtualSize}-byte VDI");
        }

        var chunk = ArrayPool<byte>.Shared.Rent(RawChunk);
        try
        {
            for (long offset = 0; offset < length; offset += RawChunk)
            {
                var n = (int)Math.Min(RawChunk, length - offset);
                await wire.ReadExactlyAsync(chunk.AsMemory(0, n), ct);
                target.Write(offset, chunk.AsSpan(0, n));
                progress(offset + n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
