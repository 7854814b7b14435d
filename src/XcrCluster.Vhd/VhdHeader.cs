using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;

namespace XcrCluster.Vhd;

/// <summary>The 1024-byte dynamic disk header ("cxsparse") that follows the footer copy.</summary>
public sealed record VhdHeader
{
    private const int ParentNameOffset = 64;
    private const int ParentNameBytes = 512;
    private const int LocatorsOffset = 576;

    public ulong DataOffset { get; init; } = VhdConstants.NoDataOffset;

    public long TableOffset { get; init; }

    public uint HeaderVersion { get; init; } = VhdConstants.FormatVersion;

    public int MaxTableEntries { get; init; }

    public int BlockSize { get; init; } = VhdConstants.DefaultBlockSize;

    public Guid ParentUniqueId { get; init; }

    public uint ParentTimestamp { get; init; }

    public string ParentUnicodeName { get; init; } = "";

    public ImmutableArray<ParentLocator> ParentLocators { get; init; } = ImmutableArray.Create(new ParentLocator[ParentLocator.Count]);

    public int SectorsPerBlock => BlockSize / VhdConstants.SectorSize;

    public int BitmapSize => SectorBitmap.SizeFor(BlockSize);

    /// <summary>Bitmap plus data: the space one allocated block takes in the file.</summary>
    public long BlockTotalSize => (long)BitmapSize + BlockSize;

    public long TableSize => BlockAllocationTable.SizeInBytes(MaxTableEntries);

    public long TableEnd => TableOffset + TableSize;

    /// <summary>Blocks needed to cover a size; more than a BAT can hold is an argument error, not a wrap-around.</summary>
    public static int BlockCountFor(long virtualSize, int blockSize)
    {
        var count = (virtualSize + blockSize - 1) / blockSize;
        return count <= VhdConstants.MaxTableEntries
            ? (int)count
            : throw new ArgumentOutOfRangeException(nameof(virtualSize), virtualSize, $"needs {count} blocks of {blockSize} bytes; a BAT holds at most {VhdConstants.MaxTableEntries}");
    }

    /// <summary>Value equality, locators compared item by item (ImmutableArray's own equality compares references).</summary>
    public bool Equals(VhdHeader? other) => other is not null
        && DataOffset == other.DataOffset
        && TableOffset == other.TableOffset
        && HeaderVersion == other.HeaderVersion
        && MaxTableEntries == other.MaxTableEntries
        && BlockSize == other.BlockSize
        && ParentUniqueId == other.ParentUniqueId
        && ParentTimestamp == other.ParentTimestamp
        && ParentUnicodeName == other.ParentUnicodeName
        && ParentLocators.AsSpan().SequenceEqual(other.ParentLocators.AsSpan());

    public override int GetHashCode() => HashCode.Combine(TableOffset, MaxTableEntries, BlockSize, ParentUniqueId, ParentUnicodeName);

    public static VhdHeader Parse(ReadOnlySpan<byte> bytes, long offset, VhdFooter footer)
    {
        if (bytes.Length < VhdConstants.HeaderSize)
        {
            throw new VhdFormatException("header", offset, $"needs {VhdConstants.HeaderSize} bytes, got {bytes.Length}");
        }

        bytes = bytes[..VhdConstants.HeaderSize];
        if (!bytes[..8].SequenceEqual(VhdConstants.HeaderCookie))
        {
            throw new VhdFormatException("header.cookie", offset, "expected \"cxsparse\"");
        }

        var stored = BinaryPrimitives.ReadUInt32BigEndian(bytes[36..]);
        var computed = VhdChecksum.Compute(bytes, 36);
        if (stored != computed)
        {
            throw new VhdFormatException("header.checksum", offset + 36, $"stored 0x{stored:X8}, computed 0x{computed:X8}");
        }

        var dataOffset = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        if (dataOffset != VhdConstants.NoDataOffset)
        {
            throw new VhdFormatException("header.data_offset", offset + 8, $"0x{dataOffset:X16} is not all ones");
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(bytes[24..]);
        if (version != VhdConstants.FormatVersion)
        {
            throw new VhdFormatException("header.header_version", offset + 24, $"0x{version:X8} is not 0x00010000");
        }

        var blockSize = BinaryPrimitives.ReadUInt32BigEndian(bytes[32..]);
        if (!VhdConstants.IsPowerOfTwo(blockSize) || blockSize < VhdConstants.MinBlockSize || blockSize > VhdConstants.MaxBlockSize)
        {
            throw new VhdFormatException("header.block_size", offset + 32, $"{blockSize} is not a power of two between 512 B and 32 MiB");
        }

        var entries = BinaryPrimitives.ReadUInt32BigEndian(bytes[28..]);
        // In long: 2040 GiB at 512-byte blocks needs more entries than an int holds.
        var needed = (footer.CurrentSize + blockSize - 1) / blockSize;
        if (entries < needed || entries > VhdConstants.MaxTableEntries)
        {
            throw new VhdFormatException("header.max_table_entries", offset + 28, $"{entries} entries, but the disk needs {needed} and at most {VhdConstants.MaxTableEntries} are accepted");
        }

        var tableOffset = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        var headerEnd = offset + VhdConstants.HeaderSize;
        if (tableOffset < (ulong)headerEnd || tableOffset % VhdConstants.SectorSize != 0 || tableOffset > (ulong)VhdConstants.MaxDiskSize)
        {
            throw new VhdFormatException("header.table_offset", offset + 16, $"{tableOffset} must be sector-aligned and after the header (byte {headerEnd})");
        }

        var locators = ImmutableArray.CreateBuilder<ParentLocator>(ParentLocator.Count);
        for (var i = 0; i < ParentLocator.Count; i++)
        {
            var entry = bytes.Slice(LocatorsOffset + (i * ParentLocator.EntrySize), ParentLocator.EntrySize);
            var locator = new ParentLocator(
                BinaryPrimitives.ReadUInt32BigEndian(entry),
                BinaryPrimitives.ReadUInt32BigEndian(entry[4..]),
                BinaryPrimitives.ReadUInt32BigEndian(entry[8..]),
                BinaryPrimitives.ReadUInt64BigEndian(entry[16..]));
            if (locator.IsUsed && (locator.DataLength > ParentLocator.MaxDataLength || locator.DataLength > locator.DataSpaceBytes
                || locator.DataOffset < (ulong)headerEnd || locator.DataOffset > (ulong)VhdConstants.MaxDiskSize))
            {
                throw new VhdFormatException($"header.parent_locator[{i}]", offset + LocatorsOffset + (i * ParentLocator.EntrySize),
                    $"data of {locator.DataLength} bytes in {locator.DataSpaceBytes} at byte {locator.DataOffset} does not fit after the header");
            }

            locators.Add(locator);
        }

        return new VhdHeader
        {
            DataOffset = dataOffset,
            TableOffset = (long)tableOffset,
            HeaderVersion = version,
            MaxTableEntries = (int)entries,
            BlockSize = (int)blockSize,
            ParentUniqueId = new Guid(bytes.Slice(40, 16), bigEndian: true),
            ParentTimestamp = BinaryPrimitives.ReadUInt32BigEndian(bytes[56..]),
            ParentUnicodeName = DecodeName(bytes.Slice(ParentNameOffset, ParentNameBytes)),
            ParentLocators = locators.MoveToImmutable(),
        };
    }

    public void WriteTo(Span<byte> destination)
    {
        var bytes = destination[..VhdConstants.HeaderSize];
        bytes.Clear();
        VhdConstants.HeaderCookie.CopyTo(bytes);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], DataOffset);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[16..], (ulong)TableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[24..], HeaderVersion);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[28..], (uint)MaxTableEntries);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[32..], (uint)BlockSize);
        ParentUniqueId.TryWriteBytes(bytes.Slice(40, 16), bigEndian: true, out _);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[56..], ParentTimestamp);
        var name = ParentUnicodeName.AsSpan(0, Math.Min(ParentUnicodeName.Length, (ParentNameBytes / 2) - 1));
        Encoding.BigEndianUnicode.GetBytes(name, bytes.Slice(ParentNameOffset, ParentNameBytes));
        for (var i = 0; i < ParentLocator.Count && i < ParentLocators.Length; i++)
        {
            var entry = bytes.Slice(LocatorsOffset + (i * ParentLocator.EntrySize), ParentLocator.EntrySize);
            var locator = ParentLocators[i];
            BinaryPrimitives.WriteUInt32BigEndian(entry, locator.PlatformCode);
            BinaryPrimitives.WriteUInt32BigEndian(entry[4..], locator.DataSpace);
            BinaryPrimitives.WriteUInt32BigEndian(entry[8..], locator.DataLength);
            BinaryPrimitives.WriteUInt64BigEndian(entry[16..], locator.DataOffset);
        }

        BinaryPrimitives.WriteUInt32BigEndian(bytes[36..], VhdChecksum.Compute(bytes, 36));
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[VhdConstants.HeaderSize];
        WriteTo(bytes);
        return bytes;
    }

    private static string DecodeName(ReadOnlySpan<byte> utf16BigEndian)
    {
        var length = 0;
        while (length + 1 < utf16BigEndian.Length && (utf16BigEndian[length] | utf16BigEndian[length + 1]) != 0)
        {
            length += 2;
        }

        return Encoding.BigEndianUnicode.GetString(utf16BigEndian[..length]);
    }
}
