using System.Text;
using XcrCluster.Vhd;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// GET /export?ref=|uuid=: the VM (or snapshot, or template) as an uncompressed XVA (ocaml/xapi/export.ml
/// `handler`, `export`; ocaml/xapi/stream_vdi.ml `send_all`, `send_one`): ova.xml first, then each VDI's
/// 1 MiB chunks named `Ref:N/%08d`, chunk 0 and the last always, all-zero ones left out (the raw path's
/// `Zerocheck.is_all_zeros`), each followed by its `.xxhash`; two zero blocks end it. HTTP/1.0-style answer:
/// no Content-Length, the body ended by closing. The disks' chains are pinned meanwhile.
/// </summary>
internal static class XvaExport
{
    public const string Endpoint = "/export";

    private const int ProgressEvery = 32;

    public static async Task HandleAsync(SimServer server, HttpContext context)
    {
        var pool = server.Pool;
        using var transfer = await HttpTransfer.BeginAsync(server, context, Endpoint, "VM export");
        if (transfer is null)
        {
            return;
        }

        string vmUuid;
        string xml;
        XapiObject? exporting = null;
        List<(XvaOva.Disk Disk, SrStorage Storage, List<string> Pinned)> disks = [];
        try
        {
            lock (pool.Db.Sync)
            {
                var vm = Vm(transfer);
                // xapi_vm_lifecycle.ml: export needs Halted or Suspended; templates and snapshots qualify.
                var power = vm.Str("power_state");
                if (power is not ("Halted" or "Suspended"))
                {
                    throw new XapiException("VM_BAD_POWER_STATE", vm.Ref, "halted, suspended", power.ToLowerInvariant());
                }

                Rpc.VmMessages.CheckNotBlocked(vm, "export");
                vmUuid = vm.Uuid;
                exporting = vm;
                (xml, var found) = XvaOva.Build(pool.Db, vm);
                foreach (var disk in found)
                {
                    var storage = pool.StorageOfVdi(disk.Vdi);
                    var pinned = storage.Chain(disk.Vdi.Str("location")).Select(l => l.Name).ToList();
                    storage.Pin(pinned);
                    disks.Add((disk, storage, pinned));
                }

                // While it runs the VM shows current_operations[task] = export (export.ml `handler`).
                vm.Map("current_operations")[transfer.Task.Ref] = "export";
                pool.Db.Touch(vm);
            }
        }
        catch (XapiException e)
        {
            // http_svr.ml: an error before any header is an HTML 500 and the task fails.
            Rpc.Tasks.Fail(pool.Db, transfer.Task, e);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.Headers.Connection = "close";
            context.Response.Headers.ContentType = "text/html";
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(
                $"<html><body><h1>HTTP 500 internal server error</h1>{System.Net.WebUtility.HtmlEncode(string.Join(" ", e.Description))}"
                + "</body></html>"));
            return;
        }

        try
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers.Connection = "close";
            context.Response.Headers.ContentType = "application/octet-stream";
            context.Response.Headers.ContentDisposition = "attachment; filename=\"export.xva\"";
            context.Response.Headers.TransferEncoding = CloseDelimitedFilter.Coding;
            server.CloseDelimited.Arm(context);
            await context.Response.StartAsync(context.RequestAborted);
            var faults = pool.Faults;
            await using var wire = new ShapedStream(context.Response.Body, faults.ExportBytesPerSecond, ExportFaults.Cut(transfer),
                n => pool.Stats.Exported(Endpoint, vmUuid, n, context.Request.Headers.UserAgent.ToString()));
            await SendAsync(transfer, wire, xml, disks.Select(d => (d.Disk, d.Storage)).ToList());
            transfer.Complete("");
        }
        catch (ExportFaults.CleanClose)
        {
            transfer.Complete("");
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or XapiException)
        {
            var error = e as XapiException ?? new XapiException("VDI_IO_ERROR", "Device I/O errors", e.Message);
            Rpc.Tasks.Fail(pool.Db, transfer.Task, error);
            context.Abort();
        }
        finally
        {
            lock (pool.Db.Sync)
            {
                if (pool.Db.TryGet(exporting!.Ref, out _) && exporting.Map("current_operations").Remove(transfer.Task.Ref))
                {
                    pool.Db.Touch(exporting);
                }
            }

            foreach (var (_, storage, pinned) in disks)
            {
                storage.Unpin(pinned);
            }
        }
    }

    /// <summary>export.ml `vm_from_request`: `ref` takes priority; `uuid` goes through VM.get_by_uuid.</summary>
    private static XapiObject Vm(HttpTransfer transfer)
    {
        var db = transfer.Pool.Db;
        return transfer.Query("ref") is { Length: > 0 } r ? db.Get(Schemas.Vm, r) : db.GetByUuid(Schemas.Vm, transfer.Query("uuid"));
    }

    private static async Task SendAsync(HttpTransfer transfer, Stream wire, string xml, List<(XvaOva.Disk Disk, SrStorage Storage)> disks)
    {
        var ct = transfer.Context.RequestAborted;
        var ova = Encoding.UTF8.GetBytes(xml);
        // tar_helpers.ml: ova.xml carries the export time; chunk and checksum members mtime 0.
        await WriteMemberAsync(wire, "ova.xml", ova, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ct);
        var total = disks.Sum(d => Chunks(d.Disk.Vdi.Int("virtual_size")));
        var done = 0L;
        var buffer = new byte[XvaTar.ChunkSize];
        foreach (var (disk, storage) in disks)
        {
            var size = disk.Vdi.Int("virtual_size");
            var chunks = Chunks(size);
            using var file = storage.OpenContent(disk.Vdi.Str("location"), size);
            var allocated = BlockSelection.Full(storage.Chain(disk.Vdi.Str("location")),
                VhdHeader.BlockCountFor(size, VhdConstants.DefaultBlockSize)).ToHashSet();
            for (var i = 0L; i < chunks; i++, done++)
            {
                if (transfer.IsCancelling)
                {
                    throw new XapiException(Rpc.Tasks.Cancelled, transfer.Task.Ref);
                }

                var offset = i * XvaTar.ChunkSize;
                var length = (int)Math.Min(XvaTar.ChunkSize, size - offset);
                var data = buffer.AsMemory(0, length);
                var edge = i == 0 || i == chunks - 1;
                // stream_vdi.ml `send_one`: the first and last chunk always ("a limitation of the XVA format").
                if (!edge && !allocated.Contains((int)(offset / VhdConstants.DefaultBlockSize)))
                {
                    continue;
                }

                file.Read(offset, data.Span);
                if (!edge && !data.Span.ContainsAnyExcept((byte)0))
                {
                    continue;
                }

                var name = XvaTar.ChunkName(disk.Id, i);
                await WriteMemberAsync(wire, name, data, 0, ct);
                await WriteMemberAsync(wire, name + ".xxhash", Encoding.ASCII.GetBytes(XvaTar.XxHashText(data.Span)), 0, ct);
                if (done % ProgressEvery == 0)
                {
                    transfer.SetProgress((double)done / Math.Max(1, total));
                }
            }
        }

        // ocaml-tar `write_end`: exactly two zero blocks, no padding to a record.
        await wire.WriteAsync(new byte[2 * XvaTar.Block], ct);
    }

    private static long Chunks(long size) => Math.Max(1, (size + XvaTar.ChunkSize - 1) / XvaTar.ChunkSize);

    private static async Task WriteMemberAsync(Stream wire, string name, ReadOnlyMemory<byte> data, long mtime, CancellationToken ct)
    {
        await wire.WriteAsync(XvaTar.Header(name, data.Length, mtime), ct);
        await wire.WriteAsync(data, ct);
        var padding = XvaTar.Padding(data.Length);
        if (padding > 0)
        {
            await wire.WriteAsync(new byte[padding], ct);
        }
    }
}
