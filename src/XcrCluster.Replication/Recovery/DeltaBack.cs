using XcrCluster.Vhd;
using XcrCluster.Xapi;

namespace XcrCluster.Replication.Recovery;

/// <summary>The transfer of a failback, one disk: a VHD delta of a replica disk against its restore point (XAPI's
/// <c>export_raw_vdi</c> with <c>base</c>: only the blocks that differ) imported into a disk of the other pool
/// (<c>import_raw_vdi</c> format=vhd writes only the blocks the VHD holds). The delta is kept in a temporary file between
/// the two, since an import needs its exact length before the first byte.</summary>
public static class DeltaBack
{
    /// <summary>A delta read from the replica's pool, kept in a temporary file (deleted when disposed) until it is written.</summary>
    public sealed class Delta(string path, int blocks, long length) : IDisposable
    {
        public int Blocks => blocks;

        public long Length => length;

        /// <summary>Writes the delta's blocks into <paramref name="targetVdi"/> (nothing when it holds none).</summary>
        public async Task ImportAsync(Pool to, string targetVdi, CancellationToken ct)
        {
            if (blocks == 0)
            {
                return;
            }

            await using var input = File.OpenRead(path);
            await to.Client.ImportVdiAsync(targetVdi, input, length, VdiFormat.Vhd, ct: ct).ConfigureAwait(false);
        }

        public void Dispose() => File.Delete(path);
    }

    /// <summary>Reads the delta of <paramref name="vdi"/> against <paramref name="baseVdi"/> into a temporary file.</summary>
    public static async Task<Delta> ExportAsync(Pool from, string vdi, string baseVdi, CancellationToken ct)
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

            using var delta = VhdFile.Open(path, new VhdOpenOptions { ResolveParent = false });
            var blocks = delta.AllocatedBlocks().Count();
            return new Delta(path, blocks, blocks == 0 ? 0 : new FileInfo(path).Length);
        }
        catch
        {
            File.Delete(path);
            throw;
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
