using System.Text;

namespace XcrCluster.Vhd;

/// <summary>A new file is whole on disk (prefix and trailing footer, flushed) before it is returned: a create that
/// fails deletes what it wrote rather than leave a file that does not open.</summary>
public sealed partial class VhdFile
{
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
        var header = VhdLayout.CreateHeader(footer.CurrentSize, options.BlockSize, parentRecord,
            VhdHeader.BlockCountFor(capacity, options.BlockSize));
        var bat = BlockAllocationTable.CreateEmpty(header.MaxTableEntries);
        var locator = parentRecord is null ? [] : Encoding.UTF8.GetBytes(VhdLayout.ParentUrl(parentRecord.Name));
        var prefix = VhdLayout.BuildPrefix(footer, header, bat, locator);
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            RandomAccess.Write(handle, prefix, 0);
            RandomAccess.Write(handle, prefix.AsSpan(0, VhdConstants.FooterSize), prefix.Length);
            RandomAccess.FlushToDisk(handle);
            return new VhdFile(path, handle, footer, header, bat, prefix.Length, writable: true, options.Durable, parent,
                ownsParent: false);
        }
        catch
        {
            handle.Dispose();
            File.Delete(path);
            throw;
        }
    }
}
