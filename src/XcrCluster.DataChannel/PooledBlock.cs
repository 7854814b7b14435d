using System.Buffers;
using XcrCluster.Vhd;

namespace XcrCluster.DataChannel;

/// <summary>A VHD block in a pooled buffer, read once and handed to one or more consumers; the buffer goes back
/// to its pool after the last <see cref="Release"/>. Every consumer releases what it took: an import once the block
/// is written onto the import's request stream, the data channel's sender once the block's frame is written to the socket, the
/// receiver's block when the import on its node has it. Blocks a consumer never receives (a dropped target) and a
/// block whose frame a failed connection may still hold are left to the garbage collector instead.</summary>
public sealed class PooledBlock
{
    private readonly byte[] buffer;
    private readonly ArrayPool<byte> pool;
    private int pending;

    /// <param name="block">The block, over <paramref name="buffer"/>.</param>
    /// <param name="buffer">Rented from <paramref name="pool"/>; an empty array for a block over memory of its own
    /// (nothing to give back: the pools ignore empty arrays).</param>
    /// <param name="readers">The consumers that will each release it once.</param>
    /// <param name="pool">Where the buffer goes back; the shared pool when null.</param>
    public PooledBlock(VhdBlock block, byte[] buffer, int readers, ArrayPool<byte>? pool = null)
    {
        Block = block;
        this.buffer = buffer;
        this.pool = pool ?? ArrayPool<byte>.Shared;
        pending = readers;
    }

    public VhdBlock Block { get; }

    public int Size => Block.Bitmap.Length + Block.Data.Length;

    /// <summary>A buffer of at least <paramref name="size"/> bytes from the shared pool.</summary>
    public static byte[] Rent(int size) => ArrayPool<byte>.Shared.Rent(size);

    public static void Return(byte[] buffer) => ArrayPool<byte>.Shared.Return(buffer);

    public void Release()
    {
        if (Interlocked.Decrement(ref pending) == 0 && buffer.Length > 0)
        {
            pool.Return(buffer);
        }
    }
}
