using System.Buffers;
using XcrCluster.Vhd;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// GET /export_raw_vdi[/]?vdi=&amp;format=vhd|raw[&amp;base=]: XAPI's answer (export_raw_vdi.ml: HTTP/1.1 200,
/// connection close, task-id, no Content-Length, the body ended by closing; chunked only with chunkedExports),
/// the disk streamed block by block from the chain (never loaded whole), with a base only
/// the blocks allocated on either side since the common ancestor. The chains are pinned meanwhile.
/// A null SR's disk exports as zeros of its virtual size: raw, all zeros; VHD, a stream with no block
/// (with a base, an empty differencing VHD naming the base), so an engine reading it back never fails.
/// </summary>
internal static class ExportEndpoint
{
    private const int ProgressEvery = 32;

    public static async Task HandleAsync(SimServer server, HttpContext context)
    {
        var pool = server.Pool;
        using var transfer = await HttpTransfer.BeginAsync(server, context, "/export_raw_vdi", "VDI export");
        if (transfer is null)
        {
            return;
        }

        Plan plan;
        try
        {
            if (ExportFaults.Redirect(server, context))
            {
                return;
            }

            plan = Prepare(transfer);
        }
        catch (XapiException e)
        {
            await transfer.FailAsync(e);
            return;
        }

        var faults = pool.Faults;
        try
        {
            if (faults.ExportStatus500)
            {
                await ExportFaults.Status500Async(transfer);
                return;
            }

            if (!await SendAsync(transfer, plan))
            {
                return;
            }

            if (faults.FailExportTask)
            {
                // The body went out whole; vhd-tool's exit status then fails the task (vhd_tool_wrapper.ml).
                Rpc.Tasks.Fail(pool.Db, transfer.Task, new XapiException("VDI_IO_ERROR", "Device I/O errors"));
                return;
            }

            transfer.Complete("");
        }
        catch (ExportFaults.CleanClose)
        {
            transfer.Complete("");
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or XapiException)
        {
            Rpc.Tasks.Fail(pool.Db, transfer.Task, e as XapiException ?? new XapiException("VDI_IO_ERROR", "Device I/O errors", e.Message));
            context.Abort();
        }
        finally
        {
            plan.Release();
        }
    }

    private static Plan Prepare(HttpTransfer transfer)
    {
        var pool = transfer.Pool;
        var format = transfer.Format();
        var vdi = transfer.Vdi();
        var baseId = transfer.Query("base");
        var baseVdi = baseId is "" or Xapi.Wire.XapiValue.NullRef ? null : transfer.Vdi("base");
        lock (pool.Db.Sync)
        {
            var storage = pool.StorageOfVdi(vdi);
            if (baseVdi is not null && baseVdi.Str("SR") != vdi.Str("SR"))
            {
                throw new XapiException("VDI_IO_ERROR", "Cannot compute differences between VDIs on different SRs");
            }

            var chain = storage.Chain(vdi.Str("location"));
            var baseChain = baseVdi is null ? null : storage.Chain(baseVdi.Str("location"));
            var pinned = chain.Concat(baseChain ?? []).Select(l => l.Name).ToList();
            storage.Pin(pinned);
            try
            {
                var blockCount = VhdHeader.BlockCountFor(vdi.Int("virtual_size"), VhdConstants.DefaultBlockSize);
                var blocks = baseChain is null ? BlockSelection.Full(chain, blockCount)
                    : BlockSelection.Delta(chain, baseChain, blockCount);
                VhdParent? parent = null;
                if (baseVdi is not null && storage.IsNull)
                {
                    // No file to take an identity from: the base VDI's uuid stands for it.
                    parent = new VhdParent(Guid.TryParse(baseVdi.Uuid, out var id) ? id : Guid.Empty, baseVdi.Uuid + ".vhd", 0);
                }
                else if (baseVdi is not null)
                {
                    var path = storage.PathOf(baseVdi.Str("location"));
                    using var own = VhdFile.Open(path, new VhdOpenOptions { ResolveParent = false });
                    parent = new VhdParent(own.Footer.UniqueId, Path.GetFileName(path),
                        VhdConstants.ToVhdTimestamp(File.GetLastWriteTimeUtc(path)));
                }

                var disk = storage.OpenContent(vdi.Str("location"), vdi.Int("virtual_size"));
                pool.Stats.VdiRequest(vdi.Uuid);
                return new Plan(format, vdi.Uuid, disk, blocks, parent, baseVdi is not null, () => storage.Unpin(pinned));
            }
            catch
            {
                storage.Unpin(pinned);
                throw;
            }
        }
    }

    /// <summary>Streams the body; false when a fault replaced it with a failure (the task is settled then).</summary>
    private static async Task<bool> SendAsync(HttpTransfer transfer, Plan plan)
    {
        var context = transfer.Context;
        var faults = transfer.Pool.Faults;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.Connection = "close";
        context.Response.Headers.ContentType = plan.Format == "vhd" ? "application/vhd" : "application/octet-stream";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{plan.VdiUuid}.{plan.Format}\"";
        if (!faults.ChunkedExports)
        {
            // XAPI's body ends at connection close, with no Content-Length and no Transfer-Encoding.
            context.Response.Headers.TransferEncoding = CloseDelimitedFilter.Coding;
            transfer.Server.CloseDelimited.Arm(context);
        }

        // XAPI sends the headers at once, whatever pace the body then goes at.
        await context.Response.StartAsync(context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await using var wire = new ShapedStream(context.Response.Body, faults.ExportBytesPerSecond, ExportFaults.Cut(transfer),
            n => transfer.Pool.Stats.Exported("/export_raw_vdi", plan.VdiUuid, n, transfer.Context.Request.Headers.UserAgent.ToString()));
        if (plan.HasBase && faults.FailDeltaExports)
        {
            await ExportFaults.DeltaFailureAsync(transfer, wire);
            return false;
        }

        var ct = context.RequestAborted;
        var blockSize = VhdConstants.DefaultBlockSize;
        var size = plan.Disk.VirtualSize;
        var buffer = ArrayPool<byte>.Shared.Rent(blockSize);
        try
        {
            if (plan.Format == "vhd")
            {
                var writer = new VhdStreamWriter(wire, size, plan.Blocks, plan.Parent);
                await writer.WriteHeadersAsync(ct);
                for (var k = 0; k < plan.Blocks.Count; k++)
                {
                    var data = ReadBlock(plan.Disk, plan.Blocks[k], buffer);
                    await writer.WriteBlockAsync(plan.Blocks[k], data, ct: ct);
                    Tick(transfer, k, plan.Blocks.Count);
                }

                await writer.CompleteAsync(ct);
                return true;
            }

            var selected = plan.HasBase ? plan.Blocks.ToHashSet() : null;
            var count = VhdHeader.BlockCountFor(size, blockSize);
            for (var index = 0; index < count; index++)
            {
                var length = (int)Math.Min(blockSize, size - ((long)index * blockSize));
                if (selected is null || selected.Contains(index))
                {
                    await wire.WriteAsync(ReadBlock(plan.Disk, index, buffer), ct);
                }
                else
                {
                    Array.Clear(buffer, 0, length);
                    await wire.WriteAsync(buffer.AsMemory(0, length), ct);
                }

                Tick(transfer, index, count);
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ReadOnlyMemory<byte> ReadBlock(IVirtualDisk disk, int index, byte[] buffer)
    {
        var offset = (long)index * VhdConstants.DefaultBlockSize;
        var length = (int)Math.Min(VhdConstants.DefaultBlockSize, disk.VirtualSize - offset);
        disk.Read(offset, buffer.AsSpan(0, length));
        return buffer.AsMemory(0, length);
    }

    private static void Tick(HttpTransfer transfer, int done, int total)
    {
        if (transfer.IsCancelling)
        {
            throw new XapiException(Rpc.Tasks.Cancelled, transfer.Task.Ref);
        }

        if (done % ProgressEvery == 0)
        {
            transfer.SetProgress((double)done / Math.Max(1, total));
        }
    }

    private sealed record Plan(string Format, string VdiUuid, IVirtualDisk Disk, List<int> Blocks, VhdParent? Parent, bool HasBase,
        Action Unpin)
    {
        public void Release()
        {
            Disk.Dispose();
            Unpin();
        }
    }
}
