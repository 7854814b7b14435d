using System.Buffers;
using System.Buffers.Binary;

namespace XcrCluster.Vhd;

public sealed partial class VhdFile
{
    /// <summary>Writes whole sectors; allocates blocks as needed.</summary>
    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        if (!IsWritable)
        {
            throw new InvalidOperationException($"{Path} is open read-only");
        }

        lock (writeLock)
        {
            while (!source.IsEmpty)
            {
                var index = (int)(offset / BlockSize);
                var within = (int)(offset % BlockSize);
                var n = Math.Min(source.Length, BlockSize - within);
                if (bat.IsAllocated(index))
                {
                    WriteAllocated(index, within, source[..n]);
                }
                else
                {
                    Allocate(index, within, source[..n]);
                }

                source = source[n..];
                offset += n;
            }
        }
    }

    /// <summary>Applies a block as XAPI's import does: only sectors whose bitmap bit is set are written.</summary>
    public void WriteBlock(int index, ReadOnlySpan<byte> bitmap, ReadOnlySpan<byte> data)
    {
        var sectors = (int)Math.Min(Header.SectorsPerBlock, (VirtualSize - ((long)index * BlockSize)) / VhdConstants.SectorSize);
        var blockStart = (long)index * BlockSize;
        var sector = 0;
        while (sector < sectors)
        {
            var run = SectorBitmap.RunLength(bitmap, sector, sectors);
            if (SectorBitmap.IsSet(bitmap, sector))
            {
                var bytes = data.Slice(sector * VhdConstants.SectorSize, run * VhdConstants.SectorSize);
                Write(blockStart + ((long)sector * VhdConstants.SectorSize), bytes);
            }

            sector += run;
        }
    }

    private void WriteAllocated(int index, int within, ReadOnlySpan<byte> source)
    {
        var blockOffset = bat.BlockOffset(index);
        RandomAccess.Write(handle, source, blockOffset + Header.BitmapSize + within);
        var bitmap = ArrayPool<byte>.Shared.Rent(Header.BitmapSize);
        try
        {
            var span = bitmap.AsSpan(0, Header.BitmapSize);
            ReadExactly(handle, span, blockOffset, $"block {index} bitmap");
            var first = within / VhdConstants.SectorSize;
            var count = source.Length / VhdConstants.SectorSize;
            if (SectorBitmap.RunLength(span, first, first + count) == count && SectorBitmap.IsSet(span, first))
            {
                return;
            }

            // Data before bitmap: a crash in between leaves the old content visible, never garbage.
            Flush();
            SectorBitmap.SetRange(span, first, count);
            RandomAccess.Write(handle, span, blockOffset);
            Flush();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bitmap);
        }
    }

    private void Allocate(int index, int within, ReadOnlySpan<byte> source)
    {
        // The new block goes where the trailing footer was: bitmap and data are written where they belong, with
        // no zero-filled image of the whole block copied first (a 2 MiB copy per block on the import path).
        var rented = ArrayPool<byte>.Shared.Rent(Header.BitmapSize);
        try
        {
            var bitmap = rented.AsSpan(0, Header.BitmapSize);
            var first = within / VhdConstants.SectorSize;
            var count = source.Length / VhdConstants.SectorSize;
            var blockOffset = footerOffset;
            var dataOffset = blockOffset + Header.BitmapSize;
            if (Footer.DiskType == DiskType.Dynamic)
            {
                // A dynamic disk's untouched sectors are zero either way; a full bitmap is what qemu and XAPI write.
                bitmap.Fill(0xFF);
                WriteZeros(dataOffset, within);
                WriteZeros(dataOffset + within + source.Length, BlockSize - within - source.Length);
            }
            else
            {
                // Sectors outside the bitmap are never read; past the old end of the file they are a hole anyway.
                bitmap.Clear();
                SectorBitmap.SetRange(bitmap, first, count);
            }

            var newFooterOffset = blockOffset + Header.BlockTotalSize;
            RandomAccess.Write(handle, bitmap, blockOffset);
            RandomAccess.Write(handle, source, dataOffset + within);
            RandomAccess.Write(handle, footerBytes, newFooterOffset);
            Flush();

            footerOffset = newFooterOffset;
            bat[index] = (uint)(blockOffset / VhdConstants.SectorSize);
            Span<byte> entry = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(entry, bat[index]);
            RandomAccess.Write(handle, entry, Header.TableOffset + (4L * index));
            Flush();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static readonly byte[] Zeros = new byte[VhdConstants.DefaultBlockSize];

    private void WriteZeros(long offset, int count)
    {
        for (var done = 0; done < count; done += Zeros.Length)
        {
            RandomAccess.Write(handle, Zeros.AsSpan(0, Math.Min(Zeros.Length, count - done)), offset + done);
        }
    }

    /// <summary>Rewrites both footers (the trailing one first) with a changed field, e.g. the hidden flag.</summary>
    public void UpdateFooter(Func<VhdFooter, VhdFooter> change)
    {
        lock (writeLock)
        {
            var updated = change(Footer);
            if (updated.CurrentSize != Footer.CurrentSize
                && VhdHeader.BlockCountFor(updated.CurrentSize, BlockSize) > Header.MaxTableEntries)
            {
                throw new InvalidOperationException(
                    $"the BAT of {Path} holds {Header.MaxTableEntries} blocks, too few for {updated.CurrentSize} bytes");
            }

            WriteFooters(updated);
        }
    }

    private void WriteFooters(VhdFooter footer)
    {
        if (!IsWritable)
        {
            throw new InvalidOperationException($"{Path} is open read-only");
        }

        var bytes = footer.ToBytes();
        RandomAccess.Write(handle, bytes, footerOffset);
        RandomAccess.SetLength(handle, footerOffset + VhdConstants.FooterSize);
        Flush();
        RandomAccess.Write(handle, bytes, 0);
        Flush();
        Footer = footer;
        footerBytes = bytes;
    }

    public void Flush()
    {
        if (durable && IsWritable)
        {
            RandomAccess.FlushToDisk(handle);
        }
    }
}
