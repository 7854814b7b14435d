using System.Security.Cryptography;
using System.Text;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Wire;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// PUT /import?sr_id=|sr_uuid=[&amp;force=true]: an uncompressed XVA (ocaml/xapi/import.ml `handler`,
/// `stream_import`, `complete_import`; ocaml/xapi/stream_vdi.ml `recv_all_vdi`). Answers 200 before reading the
/// body; from then on the task says what happened. ova.xml must come first (IMPORT_ERROR_UNEXPECTED_FILE); each
/// data member is checked against its .xxhash (%016X) or .checksum (SHA-1, lowercase) unless force; chunk numbers
/// are counters, gaps sized by the first chunk's length. The result is the VM ref set as XML-RPC. On failure what
/// was created is destroyed unless force.
/// </summary>
internal static class XvaImport
{
    public const string Endpoint = "/import";

    /// <summary>Bounds the buffers: ova.xml and any one member.</summary>
    private const long MaxMember = 64L * 1024 * 1024;

    public static async Task HandleAsync(SimServer server, HttpContext context)
    {
        var pool = server.Pool;
        using var transfer = await HttpTransfer.BeginAsync(server, context, Endpoint, "VM import");
        if (transfer is null)
        {
            return;
        }

        XapiObject sr;
        try
        {
            if (context.Request.Headers.TransferEncoding.Count > 0)
            {
                await RefuseAsync(transfer, StatusCodes.Status403Forbidden, new XapiException("IMPORT_ERROR_CANNOT_HANDLE_CHUNKED"));
                return;
            }

            sr = Sr(transfer);
            if (sr.Str("content_type") == "iso")
            {
                await RefuseAsync(transfer, StatusCodes.Status400BadRequest, new XapiException("SR_OPERATION_NOT_SUPPORTED", sr.Ref));
                return;
            }
        }
        catch (XapiException e)
        {
            await transfer.FailAsync(e);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.Connection = "close";
        context.Response.Headers.ContentType = "application/octet-stream";
        await context.Response.StartAsync(context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        var force = transfer.Query("force") == "true";
        XvaImportObjects? objects = null;
        try
        {
            var faults = pool.Faults;
            await using var wire = new ShapedStream(context.Request.Body, faults.ImportBytesPerSecond,
                WireCut.Reset(context, faults.ResetImportAfterBytes),
                n => pool.Stats.Imported(Endpoint, sr.Uuid, n, context.Request.Headers.UserAgent.ToString()));
            var first = await NextAsync(wire, context.RequestAborted);
            if (first?.Name != "ova.xml")
            {
                // import.ml `assert_filename_is`: [expected; actual].
                throw new XapiException("IMPORT_ERROR_UNEXPECTED_FILE", "ova.xml", first?.Name ?? "");
            }

            var ova = await DataAsync(wire, first.Value.Size, context.RequestAborted);
            var document = XmlRpc.DecodeValue(Encoding.UTF8.GetString(ova)) as Dictionary<string, object?>
                ?? throw new XapiException("IMPORT_ERROR", "ova.xml is not an XML-RPC struct");
            XvaImportObjects.CheckVersion(pool.Version, document);
            var list = (document.GetValueOrDefault("objects") as List<object?> ?? []).OfType<Dictionary<string, object?>>().ToList();
            lock (pool.Db.Sync)
            {
                objects = XvaImportObjects.Create(pool, sr, transfer.Task, list, force);
                transfer.Task.Map("other_config")["object_creation"] = "complete";
                pool.Db.Touch(transfer.Task);
            }

            await ReceiveDisksAsync(transfer, wire, objects, force);
            pool.SaveIfDirty();
            transfer.Complete(new List<object?> { objects.Vm.Ref }); // Tasks.Complete renders it with Xmlrpc.to_string
            await wire.CopyToAsync(Stream.Null, context.RequestAborted);
        }
        catch (Exception e) when (e is XapiException or IOException or OperationCanceledException or BadHttpRequestException
                                      or InvalidDataException or FormatException or System.Xml.XmlException)
        {
            var error = e as XapiException ?? new XapiException("IMPORT_ERROR", e.Message);
            if (objects is not null && !force)
            {
                lock (pool.Db.Sync)
                {
                    objects.Undo(pool);
                }
            }

            Rpc.Tasks.Fail(pool.Db, transfer.Task, error);
            context.Abort();
        }
    }

    /// <summary>sr_id (query or cookie), else sr_uuid, else the pool's default SR (DEFAULT_SR_NOT_FOUND).</summary>
    private static XapiObject Sr(HttpTransfer transfer)
    {
        var db = transfer.Pool.Db;
        lock (db.Sync)
        {
            var id = transfer.Query("sr_id") is { Length: > 0 } q ? q : transfer.Context.Request.Cookies["sr_id"] ?? "";
            if (id.Length > 0)
            {
                return db.Get(Schemas.Sr, id);
            }

            if (transfer.Query("sr_uuid") is { Length: > 0 } uuid)
            {
                return db.GetByUuid(Schemas.Sr, uuid);
            }

            var fallback = db.All(Schemas.Pool).First().Str("default_SR");
            return db.TryGet(fallback, out var row) && row.Schema == Schemas.Sr ? row
                : throw new XapiException("DEFAULT_SR_NOT_FOUND", fallback);
        }
    }

    private static async Task RefuseAsync(HttpTransfer transfer, int status, XapiException error)
    {
        Rpc.Tasks.Fail(transfer.Pool.Db, transfer.Task, error);
        transfer.Context.Response.StatusCode = status;
        transfer.Context.Response.Headers.Connection = "close";
        await transfer.Context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(string.Join(" ", error.Description)));
    }

    /// <summary>stream_vdi.ml `recv_all_vdi`: per VDI, members until the offset reaches virtual_size; each data
    /// member followed by its checksum member; the gap before chunk n is (n − last − 1) × the first chunk's length.</summary>
    private static async Task ReceiveDisksAsync(HttpTransfer transfer, Stream wire, XvaImportObjects objects, bool force)
    {
        var pool = transfer.Pool;
        var ct = transfer.Context.RequestAborted;
        long firstLength = -1;
        foreach (var (id, vdi) in objects.Disks)
        {
            var size = vdi.Int("virtual_size");
            var storage = pool.StorageOfVdi(vdi);
            using var staging = storage.BeginImport(vdi.Str("location"), size);
            var (last, offset, lastSuffix) = (-1L, 0L, "");
            while (offset < size)
            {
                var data = await NextAsync(wire, ct) ?? throw new XapiException("IMPORT_ERROR_PREMATURE_EOF");
                var suffix = data.Name.StartsWith(id + "/", StringComparison.Ordinal) ? data.Name[(id.Length + 1)..] : "";
                if (!long.TryParse(suffix, out var n) || string.CompareOrdinal(suffix, lastSuffix) <= 0 && last >= 0)
                {
                    throw new XapiException("IMPORT_ERROR", "Invalid XVA file");
                }

                var bytes = await DataAsync(wire, data.Size, ct);
                var check = await NextAsync(wire, ct) ?? throw new XapiException("IMPORT_ERROR_PREMATURE_EOF");
                var expected = Encoding.ASCII.GetString(await DataAsync(wire, check.Size, ct));
                var actual = check.Name == data.Name + ".xxhash" ? XvaTar.XxHashText(bytes)
                    : check.Name == data.Name + ".checksum" ? Convert.ToHexString(SHA1.HashData(bytes)).ToLowerInvariant()
                    : throw new XapiException("IMPORT_ERROR", "Found unsupported checksum file");
                if (actual != expected && !force)
                {
                    throw new XapiException("IMPORT_ERROR", $"Block {data.Name} checksum failed");
                }

                firstLength = firstLength < 0 ? bytes.Length : firstLength;
                offset += (n - last - 1) * firstLength;
                if (offset + bytes.Length > size)
                {
                    throw new XapiException("IMPORT_ERROR", $"{data.Name} ends beyond the VDI's {size} bytes");
                }

                staging.Write(offset, bytes);

                (last, lastSuffix, offset) = (n, suffix, offset + bytes.Length);
                if (transfer.IsCancelling)
                {
                    throw new XapiException(Rpc.Tasks.Cancelled, transfer.Task.Ref);
                }
            }

            staging.Commit();
            lock (pool.Db.Sync)
            {
                Vdis.RefreshUsage(pool, pool.Db.Get(Schemas.Sr, vdi.Str("SR")), vdi);
            }
        }
    }

    /// <summary>The next member's header; pax 'x'/'g' headers are consumed. Null at the end-of-archive block.</summary>
    private static async Task<(string Name, long Size)?> NextAsync(Stream wire, CancellationToken ct)
    {
        var header = new byte[XvaTar.Block];
        while (true)
        {
            try
            {
                await wire.ReadExactlyAsync(header, ct);
            }
            catch (EndOfStreamException)
            {
                throw new XapiException("IMPORT_ERROR_PREMATURE_EOF");
            }

            if (XvaTar.Parse(header) is not { } parsed)
            {
                return null;
            }

            if (parsed.Type is (byte)'x' or (byte)'g')
            {
                await DataAsync(wire, parsed.Size, ct);
                continue;
            }

            return (parsed.Name, parsed.Size);
        }
    }

    /// <summary>A member's data and the padding after it.</summary>
    private static async Task<byte[]> DataAsync(Stream wire, long size, CancellationToken ct)
    {
        if (size > MaxMember)
        {
            throw new XapiException("IMPORT_ERROR", $"a tar member of {size} bytes is larger than {MaxMember}");
        }

        var data = new byte[size];
        try
        {
            await wire.ReadExactlyAsync(data, ct);
            await wire.ReadExactlyAsync(new byte[XvaTar.Padding(size)], ct);
        }
        catch (EndOfStreamException)
        {
            throw new XapiException("IMPORT_ERROR_PREMATURE_EOF");
        }

        return data;
    }
}
