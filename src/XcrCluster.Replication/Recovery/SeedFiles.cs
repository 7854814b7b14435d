using System.Security.Cryptography;
using XcrCluster.Domain.Pools;
using XcrCluster.Xapi;

namespace XcrCluster.Replication.Recovery;

/// <summary>The VHD files of an offline seed: written from a whole-disk export (export_raw_vdi format=vhd) under a temporary
/// name and renamed once the pool's task succeeded, and checked against the manifest's size and SHA-256.</summary>
public static class SeedFiles
{
    /// <summary>One disk whole into a temporary file, hashed as it is written, renamed when the pool's task succeeded.</summary>
    public static async Task<ManifestDisk> ExportAsync(Pool pool, string dir, ManifestDisk disk, CancellationToken ct)
    {
        var path = Path.Combine(dir, disk.File);
        var temporary = path + ".partial";
        try
        {
            await using var slot = await pool.Gate.AcquireAsync(pool.Name, SlotKind.Transfer, 1, ct).ConfigureAwait(false);
            var vdi = await pool.VdiRefAsync(disk.SnapshotVdi, ct).ConfigureAwait(false);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var export = await pool.Client.ExportVdiAsync(vdi, VdiFormat.Vhd, ct: ct).ConfigureAwait(false))
            {
                await using var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20,
                    FileOptions.Asynchronous);
                var buffer = new byte[1 << 20];
                while (await export.Content.ReadAsync(buffer, ct).ConfigureAwait(false) is > 0 and var n)
                {
                    sha.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                    size += n;
                }

                await export.CompleteAsync(ct).ConfigureAwait(false);
                await file.FlushAsync(ct).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            return disk with { FileSize = size, Sha256 = Convert.ToHexStringLower(sha.GetHashAndReset()) };
        }
        finally
        {
            File.Delete(temporary); // a partial file is never resumed: an export cannot start mid-disk
        }
    }

    /// <summary>A file's size and SHA-256 (lower-case hex).</summary>
    public static async Task<(long Size, string Sha256)> HashAsync(string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous);
        var hash = await SHA256.HashDataAsync(file, ct).ConfigureAwait(false);
        return (file.Length, Convert.ToHexStringLower(hash));
    }

    /// <summary>Null when the disk's file is there, complete, with the manifest's size and SHA-256; else what is wrong.</summary>
    public static async Task<string?> CheckAsync(string dir, ManifestDisk disk, CancellationToken ct)
    {
        var path = Path.Combine(dir, disk.File);
        if (!disk.Complete)
        {
            return $"disk {disk.Userdevice}: {disk.File} was never completed (resume the export)";
        }

        if (!File.Exists(path))
        {
            return $"disk {disk.Userdevice}: {path} is missing";
        }

        var (size, sha) = await HashAsync(path, ct).ConfigureAwait(false);
        return size != disk.FileSize ? $"disk {disk.Userdevice}: {disk.File} has {size} bytes, the manifest says {disk.FileSize}"
            : sha != disk.Sha256 ? $"disk {disk.Userdevice}: the SHA-256 of {disk.File} is {sha}, the manifest says {disk.Sha256}"
            : null;
    }
}
