using Microsoft.Win32.SafeHandles;

namespace XcrCluster.Vhd;

/// <summary>Opening checks the metadata before anything is read through it, and a torn trailing footer is rewritten
/// only when the file is opened writable: a read-only open never changes the file.</summary>
public sealed partial class VhdFile
{
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
                    throw new VhdFormatException("header.parent_unique_id", VhdConstants.HeaderOffset + 40,
                        $"the parent chain is deeper than {MaxChainDepth} (circular?)");
                }

                parent = OpenParentOf(path, header, options, depth);
            }

            var file = new VhdFile(path, handle, footer, header, bat, footerOffset, options.Writable, options.Durable, parent,
                ownsParent: true);
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
                throw new VhdFormatException("header.parent_unicode_name", VhdConstants.HeaderOffset + 64,
                    $"parent \"{name}\" not found next to {path}");
            }

            parent = Open(candidate, options with { Writable = false }, depth + 1);
        }

        if (parent is VhdFile file && file.Footer.UniqueId != header.ParentUniqueId)
        {
            var found = file.Footer.UniqueId;
            parent.Dispose();
            throw new VhdFormatException("header.parent_unique_id", VhdConstants.HeaderOffset + 40,
                $"names parent {header.ParentUniqueId}, but the parent file is {found}");
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
            throw new VhdFormatException("header.table_offset", (long)footer.DataOffset + 16,
                $"the BAT ends at byte {header.TableEnd}, past the end of the data at byte {dataEnd}");
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
}
