using XcrCluster.Vhd;
using XcrCluster.Xapi;

namespace XcrCluster.Replication.Recovery;

/// <summary>The transfer of a failback, one disk: a VHD delta of a replica disk against its restore point (XAPI's
/// <c>export_raw_vdi</c> with <c>base</c>: only the blocks that differ) imported into a disk of the other pool
/// (<c>import_raw_vdi</c> format=vhd writes only the blocks the VHD holds). The delta is kept in a temporary file between
/// the two, since an import needs its exact length before the first byte.</summary>
public static class DeltaBack
{
    /// <summary>Blocks the delta holds and the bytes sent to the other pool.</summary>
    public sealed record Sent(int Blocks, long Bytes);

    public static async Task<Sent> SendAsync(Pool from, string vdi, string baseVdi, Pool to, string targetVdi, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"xcr-failback-{Guid.NewGuid():N}.vhd");
        try
        {
            await using (var export = await from.Client.ExportVdiAsync(vdi, VdiFormat.Vhd, baseVdi, ct: ct).ConfigureAwait(false))
            {
                await using var file = File.Create(path);
                await export.Content.CopyToAsync(file, ct).ConfigureAwait(false);
                await export.CompleteAsync(ct).ConfigureAwait(false);
            }

            int blocks;
            using (var delta = VhdFile.Open(path, new VhdOpenOptions { ResolveParent = false }))
            {
                blocks = delta.AllocatedBlocks().Count();
            }

            if (blocks == 0)
            {
                return new Sent(0, 0);
            }

            var length = new FileInfo(path).Length;
            await using (var input = File.OpenRead(path))
            {
                await to.Client.ImportVdiAsync(targetVdi, input, length, VdiFormat.Vhd, ct: ct).ConfigureAwait(false);
            }

            return new Sent(blocks, length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>How many blocks differ between a disk and a snapshot of it: the BAT of a delta export, whose body is then
    /// left unread (the connection closes and the pool ends its task).</summary>
    public static async Task<int> ChangedBlocksAsync(Pool pool, string vdi, string baseVdi, CancellationToken ct)
    {
        await using var export = await pool.Client.ExportVdiAsync(vdi, VdiFormat.Vhd, baseVdi, ct: ct).ConfigureAwait(false);
        var reader = await VhdStreamReader.OpenAsync(export.Content, ct).ConfigureAwait(false);
        return reader.PresentBlocks.Count;
    }
}
