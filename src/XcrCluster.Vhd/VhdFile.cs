using Microsoft.Win32.SafeHandles;

namespace XcrCluster.Vhd;

/// <summary>
/// A dynamic or differencing VHD file with random access. Reads go through the parent chain; writes allocate
/// blocks at the end of the file in a crash-safe order: block (bitmap and new data; a dynamic disk's other
/// sectors zeroed), then the moved footer, then the BAT entry, so a crash leaves either the old disk or the new one.
/// Reads are positional and safe to run concurrently; writes are serialised.
/// </summary>
public sealed partial class VhdFile : IVirtualDisk
{
    public const int MaxChainDepth = 64;

    private readonly SafeFileHandle handle;
    private readonly BlockAllocationTable bat;
    private readonly bool durable;
    private readonly bool ownsParent;
    private readonly Lock writeLock = new();
    private long footerOffset;

    /// <summary>The footer's bytes, rewritten at the end of the file for every block allocated: made once per footer.</summary>
    private byte[] footerBytes;

    private VhdFile(string path, SafeFileHandle handle, VhdFooter footer, VhdHeader header, BlockAllocationTable bat,
        long footerOffset, bool writable, bool durable, IVirtualDisk? parent, bool ownsParent)
    {
        Path = path;
        this.handle = handle;
        Footer = footer;
        footerBytes = footer.ToBytes();
        Header = header;
        this.bat = bat;
        this.footerOffset = footerOffset;
        IsWritable = writable;
        this.durable = durable;
        Parent = parent;
        this.ownsParent = ownsParent;
    }

    public string Path { get; }

    public VhdFooter Footer { get; private set; }

    public VhdHeader Header { get; }

    public IVirtualDisk? Parent { get; }

    public bool IsWritable { get; }

    public long VirtualSize => Footer.CurrentSize;

    public int BlockSize => Header.BlockSize;

    /// <summary>Blocks that cover the virtual size (the BAT may hold more entries).</summary>
    public int BlockCount => VhdHeader.BlockCountFor(VirtualSize, BlockSize);

    /// <summary>Bytes the file takes, trailing footer included.</summary>
    public long FileLength => footerOffset + VhdConstants.FooterSize;

    public BlockAllocationTable Bat => bat;

    public bool IsBlockAllocated(int index) => bat.IsAllocated(index);

    public IEnumerable<int> AllocatedBlocks() => bat.AllocatedIndices().Where(i => i < BlockCount);

    public void Dispose()
    {
        handle.Dispose();
        if (ownsParent)
        {
            Parent?.Dispose();
        }
    }

    private void CheckRange(long offset, int length)
    {
        if (offset < 0 || offset % VhdConstants.SectorSize != 0 || length % VhdConstants.SectorSize != 0
            || offset + length > VirtualSize)
        {
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"[{offset}, +{length}) must be whole sectors within the {VirtualSize}-byte disk");
        }
    }
}
