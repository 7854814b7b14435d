using System.Buffers;
using XcrCluster.Vhd;

namespace XcrCluster.DataChannel;

/// <summary>A VHD block in a pooled buffer, read once and handed to one or more consumers; the buffer goes back
/// to the pool after the last <see cref="Release"/>. Blocks a consumer never receives (a dropped target) are left
/// to the garbage collector instead.</summary>
public sealed class PooledBlock
{
    private readonly byte[] buffer;
    private int pending;

    public PooledBlock(VhdBlock block, byte[] buffer, int readers)
    {
        Block = block;
        this.buffer = buffer;
        pending = readers;
    }

    public VhdBlock Block { get; }

    public int Size => Block.Bitmap.Length + Block.Data.Length;

    /// <summary>A buffer of at least <paramref name="size"/> bytes from the shared pool.</summary>
    public static byte[] Rent(int size) => ArrayPool<byte>.Shared.Rent(size);

    public static void Return(byte[] buffer) => ArrayPool<byte>.Shared.Return(buffer);

    public void Release()
    {
        if (Interlocked.Decrement(ref pending) == 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
