using System.Buffers.Binary;

namespace XcrCluster.Vhd.Tests;

/// <summary>
/// Byte-level edits of a whole VHD image for corruption tests: big-endian field writes, and "patch a field and fix
/// the checksum" so a test can get past the checksum to the validation behind it. The checksum is recomputed here
/// independently of the library (one's complement of the byte sum, checksum field counted as zero).
/// </summary>
internal static class VhdPatch
{
    public const int FooterChecksumField = 64;
    public const int HeaderChecksumField = 36;
    public const int HeaderOffset = VhdConstants.HeaderOffset;

    public static long TrailingFooterOffset(byte[] image) => image.Length - VhdConstants.FooterSize;

    public static uint ReadU32(byte[] image, long offset) => BinaryPrimitives.ReadUInt32BigEndian(image.AsSpan((int)offset));

    public static ulong ReadU64(byte[] image, long offset) => BinaryPrimitives.ReadUInt64BigEndian(image.AsSpan((int)offset));

    public static void WriteU32(byte[] image, long offset, uint value) => BinaryPrimitives.WriteUInt32BigEndian(image.AsSpan((int)offset), value);

    public static void WriteU64(byte[] image, long offset, ulong value) => BinaryPrimitives.WriteUInt64BigEndian(image.AsSpan((int)offset), value);

    /// <summary>The one's complement of the byte sum of <paramref name="structure"/>, with the 4 bytes at
    /// <paramref name="checksumField"/> counted as zero.</summary>
    public static uint Checksum(ReadOnlySpan<byte> structure, int checksumField)
    {
        uint sum = 0;
        for (var i = 0; i < structure.Length; i++)
        {
            sum += i >= checksumField && i < checksumField + 4 ? 0u : structure[i];
        }

        return ~sum;
    }

    public static void FixFooterChecksum(byte[] image, long footerOffset)
    {
        var footer = image.AsSpan((int)footerOffset, VhdConstants.FooterSize);
        BinaryPrimitives.WriteUInt32BigEndian(footer[FooterChecksumField..], Checksum(footer, FooterChecksumField));
    }

    public static void FixHeaderChecksum(byte[] image, long headerOffset = HeaderOffset)
    {
        var header = image.AsSpan((int)headerOffset, VhdConstants.HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(header[HeaderChecksumField..], Checksum(header, HeaderChecksumField));
    }

    /// <summary>Recomputes the checksums of the footer copy, the header and the trailing footer (where the image still has room for them).</summary>
    public static void FixAllChecksums(byte[] image)
    {
        if (image.Length >= VhdConstants.FooterSize)
        {
            FixFooterChecksum(image, 0);
            FixFooterChecksum(image, TrailingFooterOffset(image));
        }

        if (image.Length >= HeaderOffset + VhdConstants.HeaderSize)
        {
            FixHeaderChecksum(image);
        }
    }

    /// <summary>Writes a footer field in both footers (copy at 0 and trailing) and fixes both checksums.</summary>
    public static void FooterU32(byte[] image, int field, uint value) => EditFooters(image, footer => WriteU32(image, footer + field, value));

    /// <inheritdoc cref="FooterU32"/>
    public static void FooterU64(byte[] image, int field, ulong value) => EditFooters(image, footer => WriteU64(image, footer + field, value));

    /// <summary>Writes a header field (offset within the header) and fixes the header checksum.</summary>
    public static void HeaderU32(byte[] image, int field, uint value)
    {
        WriteU32(image, HeaderOffset + field, value);
        FixHeaderChecksum(image);
    }

    /// <inheritdoc cref="HeaderU32"/>
    public static void HeaderU64(byte[] image, int field, ulong value)
    {
        WriteU64(image, HeaderOffset + field, value);
        FixHeaderChecksum(image);
    }

    /// <summary>Sets BAT entry <paramref name="index"/> (the BAT carries no checksum).</summary>
    public static void BatEntry(byte[] image, long tableOffset, int index, uint sector) => WriteU32(image, tableOffset + (4L * index), sector);

    private static void EditFooters(byte[] image, Action<long> edit)
    {
        foreach (var footer in new[] { 0, TrailingFooterOffset(image) })
        {
            edit(footer);
            FixFooterChecksum(image, footer);
        }
    }
}
