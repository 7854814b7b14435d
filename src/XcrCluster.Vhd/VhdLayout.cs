using System.Collections.Immutable;
using System.Text;

namespace XcrCluster.Vhd;

/// <summary>
/// The metadata layout XAPI uses for the VHDs it streams, which our files share: footer copy at 0, header at
/// 512, one sector for parent-locator data at 1536, BAT at 2048, blocks back to back, footer at the end.
/// </summary>
public static class VhdLayout
{
    public const long LocatorDataOffset = 1536;
    public const long TableOffset = 2048;

    public static VhdHeader CreateHeader(long virtualSize, int blockSize, VhdParent? parent, int? tableEntries = null)
    {
        if (!VhdConstants.IsPowerOfTwo(blockSize) || blockSize < VhdConstants.MinBlockSize || blockSize > VhdConstants.MaxBlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "a power of two between 512 B and 32 MiB");
        }

        var header = new VhdHeader
        {
            TableOffset = TableOffset,
            BlockSize = blockSize,
            MaxTableEntries = tableEntries ?? VhdHeader.BlockCountFor(virtualSize, blockSize),
        };
        if (parent is null)
        {
            return header;
        }

        var locators = new ParentLocator[ParentLocator.Count];
        locators[0] = new ParentLocator(ParentLocator.MacX, 1, (uint)Encoding.UTF8.GetByteCount(ParentUrl(parent.Name)), LocatorDataOffset);
        return header with
        {
            ParentUniqueId = parent.UniqueId,
            ParentTimestamp = parent.Timestamp,
            ParentUnicodeName = parent.Name,
            ParentLocators = ImmutableArray.Create(locators),
        };
    }

    /// <summary>The MacX locator's text for a parent file: a file:// URL of the name, relative when it has no directory.</summary>
    public static string ParentUrl(string name) => Path.IsPathRooted(name) ? "file://" + name : "file://./" + name;

    public static void ValidateVirtualSize(long virtualSize)
    {
        if (virtualSize <= 0 || virtualSize > VhdConstants.MaxDiskSize || virtualSize % VhdConstants.SectorSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(virtualSize), virtualSize, "a whole number of 512-byte sectors, at most 2040 GiB");
        }
    }

    /// <summary>The metadata that precedes the first block: footer copy, header, locator sector, BAT.</summary>
    public static byte[] BuildPrefix(VhdFooter footer, VhdHeader header, BlockAllocationTable bat, ReadOnlySpan<byte> locatorData = default)
    {
        var prefix = new byte[header.TableEnd];
        footer.WriteTo(prefix);
        header.WriteTo(prefix.AsSpan(VhdConstants.HeaderOffset));
        locatorData.CopyTo(prefix.AsSpan((int)LocatorDataOffset, (int)(TableOffset - LocatorDataOffset)));
        bat.WriteTo(prefix.AsSpan((int)header.TableOffset));
        return prefix;
    }
}
