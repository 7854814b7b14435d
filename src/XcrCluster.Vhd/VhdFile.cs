using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace XcrCluster.Vhd;

/// <summary>
/// A dynamic or differencing VHD file with random access. Reads go through the parent chain; writes allocate
/// blocks at the end of the file in a crash-safe order: block (zeroed, then the new data), then the moved
/// footer, then the BAT entry, so a crash leaves either the old disk or the new one. Reads are positional and
/// safe to run concurrently; writes are serialised.
/// </summary>
public sealed class VhdFile : IVirtualDisk
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

    public static VhdFile CreateDynamic(string path, long virtualSize, VhdCreateOptions? options = null)
    {
        options ??= new VhdCreateOptions();
        VhdLayout.ValidateVirtualSize(virtualSize);
        var footer = VhdFooter.Create(DiskType.Dynamic, virtualSize, options.UniqueId ?? Guid.NewGuid());
        return Create(path, footer, options, parent: null, parentRecord: null);
    }

    /// <summary>Creates a child of <paramref name="parent"/> with its virtual size; the parent is named by file
    /// name when both live in the same directory, else by absolute path. The caller keeps owning the parent.</summary>
    public static VhdFile CreateDifferencing(string path, VhdFile parent, VhdCreateOptions? options = null)
    {
        options ??= new VhdCreateOptions { BlockSize = parent.BlockSize };
        var fullPath = System.IO.Path.GetFullPath(path);
        var parentFull = System.IO.Path.GetFullPath(parent.Path);
        var sameDir = System.IO.Path.GetDirectoryName(fullPath) == System.IO.Path.GetDirectoryName(parentFull);
        var record = new VhdParent(parent.Footer.UniqueId, sameDir ? System.IO.Path.GetFileName(parentFull) : parentFull,
            VhdConstants.ToVhdTimestamp(File.GetLastWriteTimeUtc(parentFull)));
        return CreateDifferencing(path, parent, record, options);
    }

    /// <summary>Creates a child of any virtual disk, recorded in the header as <paramref name="identity"/>
    /// (an <see cref="VhdOpenOptions.OpenParent"/> resolver must map that name back when the child is opened).</summary>
    public static VhdFile CreateDifferencing(string path, IVirtualDisk parent, VhdParent identity, VhdCreateOptions? options = null)
    {
        options ??= new VhdCreateOptions();
        var footer = VhdFooter.Create(DiskType.Differencing, parent.VirtualSize, options.UniqueId ?? Guid.NewGuid());
        return Create(path, footer, options, parent, identity);
    }

    private static VhdFile Create(string path, VhdFooter footer, VhdCreateOptions options, IVirtualDisk? parent, VhdParent? parentRecord)
    {
        var capacity = Math.Max(footer.CurrentSize, options.MaxVirtualSize ?? 0);
        var header = VhdLayout.CreateHeader(footer.CurrentSize, options.BlockSize, parentRecord, VhdHeader.BlockCountFor(capacity, options.BlockSize));
        var bat = BlockAllocationTable.CreateEmpty(header.MaxTableEntries);
        var locator = parentRecord is null ? [] : Encoding.UTF8.GetBytes(VhdLayout.ParentUrl(parentRecord.Name));
        var prefix = VhdLayout.BuildPrefix(footer, header, bat, locator);
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            RandomAccess.Write(handle, prefix, 0);
            RandomAccess.Write(handle, prefix.AsSpan(0, VhdConstants.FooterSize), prefix.Length);
            RandomAccess.FlushToDisk(handle);
            return new VhdFile(path, handle, footer, header, bat, prefix.Length, writable: true, options.Durable, parent, ownsParent: false);
        }
        catch
        {
            handle.Dispose();
            File.Delete(path);
            throw;
        }
    }

    public static VhdFile Open(string path, VhdOpenOptions? options = null) => Open(path, options ?? new VhdOpenOptions(), depth: 0);

    private static VhdFile Open(string path, VhdOpenOptions options, int depth)
    {
        var handle = File.OpenHandle(path, FileMode.Open, options.Writable ? FileAccess.ReadWrite : FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete);
        IVirtualDisk? parent = null;
        try
        {
            var (footer, header, bat, footerOffset, repair) = ReadMetadata(handle);
            if (footer.DiskType == DiskType.Differencing && options.ResolveParent)
            {
                if (depth >= MaxChainDepth)
                {
                    throw new VhdFormatException("header.parent_unique_id", VhdConstants.HeaderOffset + 40, $"the parent chain is deeper than {MaxChainDepth} (circular?)");
                }

                parent = OpenParentOf(path, header, options, depth);
            }

            var file = new VhdFile(path, handle, footer, header, bat, footerOffset, options.Writable, options.Durable, parent, ownsParent: true);
            if (repair && options.Writable)
            {
                file.WriteFooters(footer);
            }

            return file;
        }
        catch
        {
            parent?.Dispose();
            handle.Dispose();
            throw;
        }
    }

    private static IVirtualDisk OpenParentOf(string path, VhdHeader header, VhdOpenOptions options, int depth)
    {
        IVirtualDisk parent;
        if (options.OpenParent is not null)
        {
            parent = options.OpenParent(header.ParentUnicodeName);
        }
        else
        {
            var name = header.ParentUnicodeName;
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".";
            var candidate = name.Length == 0 ? "" : System.IO.Path.Combine(dir, name);
            if (candidate.Length == 0 || name.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0 || !File.Exists(candidate))
            {
                throw new VhdFormatException("header.parent_unicode_name", VhdConstants.HeaderOffset + 64, $"parent \"{name}\" not found next to {path}");
            }

            parent = Open(candidate, options with { Writable = false }, depth + 1);
        }

        if (parent is VhdFile file && file.Footer.UniqueId != header.ParentUniqueId)
        {
            var found = file.Footer.UniqueId;
            parent.Dispose();
            throw new VhdFormatException("header.parent_unique_id", VhdConstants.HeaderOffset + 40, $"names parent {header.ParentUniqueId}, but the parent file is {found}");
        }

        return parent;
    }

    /// <summary>Reads and checks footer, header and BAT. A bad trailing footer (a crash while appending a block)
    /// falls back to the copy at offset 0 and the footer's place is recomputed from the blocks.</summary>
    private static (VhdFooter, VhdHeader, BlockAllocationTable, long FooterOffset, bool Repair) ReadMetadata(SafeFileHandle handle)
    {
        var length = RandomAccess.GetLength(handle);
        const int minimum = VhdConstants.HeaderOffset + VhdConstants.HeaderSize + VhdConstants.SectorSize + VhdConstants.FooterSize;
        if (length < minimum)
        {
            throw new VhdFormatException("file", length, $"{length} bytes is too short for a dynamic VHD (at least {minimum})");
        }

        Span<byte> buffer = stackalloc byte[VhdConstants.HeaderSize];
        ReadExactly(handle, buffer[..VhdConstants.FooterSize], 0, "footer");
        var copy = VhdFooter.Parse(buffer, 0);
        var tailOffset = (length - VhdConstants.FooterSize) & ~(long)(VhdConstants.SectorSize - 1);
        ReadExactly(handle, buffer[..VhdConstants.FooterSize], tailOffset, "footer (trailing)");
        VhdFooter? trailing;
        try
        {
            trailing = VhdFooter.Parse(buffer, tailOffset);
        }
        catch (VhdFormatException)
        {
            trailing = null;
        }

        var footer = trailing ?? copy;
        ReadExactly(handle, buffer, (long)footer.DataOffset, "header");
        var header = VhdHeader.Parse(buffer, (long)footer.DataOffset, footer);
        var dataEnd = trailing is null ? length : tailOffset;
        if (header.TableEnd > dataEnd)
        {
            throw new VhdFormatException("header.table_offset", (long)footer.DataOffset + 16, $"the BAT ends at byte {header.TableEnd}, past the end of the data at byte {dataEnd}");
        }

        var batBytes = GC.AllocateUninitializedArray<byte>((int)header.TableSize);
        ReadExactly(handle, batBytes, header.TableOffset, "bat");
        var bat = BlockAllocationTable.Parse(batBytes, header.MaxTableEntries);
        var order = bat.ValidateLayout(header, dataEnd);
        if (trailing is not null)
        {
            return (footer, header, bat, tailOffset, false);
        }

        var end = header.TableEnd;
        if (order.Length > 0)
        {
            end = Math.Max(end, bat.BlockOffset(order[^1]) + header.BlockTotalSize);
        }

        foreach (var locator in header.ParentLocators.Where(l => l.IsUsed))
        {
            end = Math.Max(end, VhdConstants.RoundUpToSector((long)locator.DataOffset + locator.DataLength));
        }

        return (footer, header, bat, end, true);
    }

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
            if (updated.CurrentSize != Footer.CurrentSize && VhdHeader.BlockCountFor(updated.CurrentSize, BlockSize) > Header.MaxTableEntries)
            {
                throw new InvalidOperationException($"the BAT of {Path} holds {Header.MaxTableEntries} blocks, too few for {updated.CurrentSize} bytes");
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
        if (offset < 0 || offset % VhdConstants.SectorSize != 0 || length % VhdConstants.SectorSize != 0 || offset + length > VirtualSize)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) must be whole sectors within the {VirtualSize}-byte disk");
        }
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
