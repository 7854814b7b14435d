using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// Kestrel's transport buffers in blocks of this pool instead of its default 4 KiB ones. A socket receive fills
/// at most one block, so with 4 KiB blocks an import of a 1 GiB disk takes 262 144 recv calls and as many
/// pipe hops, which made the import side cost several times the export's CPU per byte; 128 KiB blocks cut that
/// by 32. Blocks come from the shared array pool, so idle connections hold none.
/// </summary>
internal sealed class LargeBlockPool : MemoryPool<byte>
{
    public const int BlockSize = 128 * 1024;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        return new Block(ArrayPool<byte>.Shared.Rent(BlockSize));
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? array = array;

        public Memory<byte> Memory => array ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref array, null) is { } a)
            {
                ArrayPool<byte>.Shared.Return(a);
            }
        }
    }

    public sealed class Factory : IMemoryPoolFactory<byte>
    {
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockPool();
    }
}
