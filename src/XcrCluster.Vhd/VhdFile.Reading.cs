using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace XcrCluster.Vhd;

public sealed partial class VhdFile
{
    /// <summary>Reads whole sectors of the virtual disk, resolving unallocated sectors through the parent chain.</summary>
    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        byte[]? bitmap = null;
        try
        {
            while (!destination.IsEmpty)
            {
                var index = (int)(offset / BlockSize);
                var within = (int)(offset % BlockSize);
                var n = Math.Min(destination.Length, BlockSize - within);
                if (!bat.IsAllocated(index))
                {
                    ReadBelow(offset, destination[..n]);
                }
                else
                {
                    bitmap ??= ArrayPool<byte>.Shared.Rent(Header.BitmapSize);
                    ReadExactly(handle, bitmap.AsSpan(0, Header.BitmapSize), bat.BlockOffset(index), $"block {index} bitmap");
                    ReadWithinBlock(index, within, destination[..n], bitmap);
                }

                destination = destination[n..];
                offset += n;
            }
        }
        finally
        {
            if (bitmap is not null)
            {
                ArrayPool<byte>.Shared.Return(bitmap);
            }
        }
    }

    private void ReadWithinBlock(int index, int within, Span<byte> destination, ReadOnlySpan<byte> bitmap)
    {
        var dataStart = bat.BlockOffset(index) + Header.BitmapSize;
        var sector = within / VhdConstants.SectorSize;
        var limit = sector + (destination.Length / VhdConstants.SectorSize);
        while (sector < limit)
        {
            var run = SectorBitmap.RunLength(bitmap, sector, limit);
            var bytes = destination.Slice((sector * VhdConstants.SectorSize) - within, run * VhdConstants.SectorSize);
            if (SectorBitmap.IsSet(bitmap, sector))
            {
                ReadExactly(handle, bytes, dataStart + ((long)sector * VhdConstants.SectorSize), $"block {index} data");
            }
            else
            {
                ReadBelow(((long)index * BlockSize) + ((long)sector * VhdConstants.SectorSize), bytes);
            }

            sector += run;
        }
    }

    private void ReadBelow(long offset, Span<byte> destination)
    {
        if (Parent is not null && offset < Parent.VirtualSize)
        {
            var fromParent = (int)Math.Min(destination.Length, Parent.VirtualSize - offset);
            Parent.Read(offset, destination[..fromParent]);
            destination[fromParent..].Clear();
        }
        else
        {
            destination.Clear();
        }
    }

    /// <summary>This file's own copy of a block (no chain): false when the block is not allocated here.</summary>
    public bool ReadOwnBlock(int index, Span<byte> bitmap, Span<byte> data)
    {
        if (!bat.IsAllocated(index))
        {
            return false;
        }

        ReadExactly(handle, bitmap[..Header.BitmapSize], bat.BlockOffset(index), $"block {index} bitmap");
        ReadExactly(handle, data[..BlockSize], bat.BlockOffset(index) + Header.BitmapSize, $"block {index} data");
        return true;
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset, string field)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var n = RandomAccess.Read(handle, destination[done..], offset + done);
            if (n == 0)
            {
                throw new VhdFormatException(field, offset + done, "the file ends here");
            }

            done += n;
        }
    }
}
