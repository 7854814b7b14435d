using System.Buffers.Binary;
using System.Text;

namespace XcrCluster.Vhd;

/// <summary>The 512-byte hard disk footer (a copy at offset 0 and the original at the end of a dynamic VHD).</summary>
public sealed record VhdFooter
{
    public const uint DefaultFeatures = 2;

    public uint Features { get; init; } = DefaultFeatures;

    public uint FileFormatVersion { get; init; } = VhdConstants.FormatVersion;

    public ulong DataOffset { get; init; } = VhdConstants.HeaderOffset;

    /// <summary>Seconds since 2000-01-01 UTC; XAPI writes 0.</summary>
    public uint Timestamp { get; init; }

    /// <summary>Four ASCII characters: "caml" (XAPI), "xo  " (vhd-lib), "qemu"/"qem2" (qemu), "tap\0" (blktap).</summary>
    public string CreatorApplication { get; init; } = CreatorXapi;

    public uint CreatorVersion { get; init; } = 1;

    public uint CreatorHostOs { get; init; }

    public long OriginalSize { get; init; }

    public long CurrentSize { get; init; }

    public DiskGeometry Geometry { get; init; }

    public DiskType DiskType { get; init; } = DiskType.Dynamic;

    public Guid UniqueId { get; init; }

    public byte SavedState { get; init; }

    /// <summary>Byte 85, which blktap and vhd-lib use as the "hidden" flag of a base copy.</summary>
    public bool Hidden { get; init; }

    public const string CreatorXapi = "caml";

    /// <summary>A footer as XAPI's vhd-tool writes it: creator "caml" version 1, host OS 0, timestamp 0, geometry from the size.</summary>
    public static VhdFooter Create(DiskType type, long virtualSize, Guid uniqueId) => new()
    {
        DiskType = type,
        OriginalSize = virtualSize,
        CurrentSize = virtualSize,
        Geometry = DiskGeometry.FromSize(virtualSize),
        UniqueId = uniqueId,
    };

    public static VhdFooter Parse(ReadOnlySpan<byte> bytes, long offset)
    {
        if (bytes.Length < VhdConstants.FooterSize)
        {
            throw new VhdFormatException("footer", offset, $"needs {VhdConstants.FooterSize} bytes, got {bytes.Length}");
        }

        bytes = bytes[..VhdConstants.FooterSize];
        if (!bytes[..8].SequenceEqual(VhdConstants.FooterCookie))
        {
            throw new VhdFormatException("footer.cookie", offset, "expected \"conectix\"");
        }

        var stored = BinaryPrimitives.ReadUInt32BigEndian(bytes[64..]);
        var computed = VhdChecksum.Compute(bytes, 64);
        if (stored != computed)
        {
            throw new VhdFormatException("footer.checksum", offset + 64, $"stored 0x{stored:X8}, computed 0x{computed:X8}");
        }

        var footer = new VhdFooter
        {
            Features = BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]),
            FileFormatVersion = BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]),
            DataOffset = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            Timestamp = BinaryPrimitives.ReadUInt32BigEndian(bytes[24..]),
            CreatorApplication = Encoding.Latin1.GetString(bytes.Slice(28, 4)),
            CreatorVersion = BinaryPrimitives.ReadUInt32BigEndian(bytes[32..]),
            CreatorHostOs = BinaryPrimitives.ReadUInt32BigEndian(bytes[36..]),
            OriginalSize = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(bytes[40..]), long.MaxValue),
            CurrentSize = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(bytes[48..]), long.MaxValue),
            Geometry = new DiskGeometry(BinaryPrimitives.ReadUInt16BigEndian(bytes[56..]), bytes[58], bytes[59]),
            DiskType = (DiskType)BinaryPrimitives.ReadUInt32BigEndian(bytes[60..]),
            UniqueId = new Guid(bytes.Slice(68, 16), bigEndian: true),
            SavedState = bytes[84],
            Hidden = bytes[85] != 0,
        };
        footer.Validate(offset);
        return footer;
    }

    private void Validate(long offset)
    {
        if (FileFormatVersion != VhdConstants.FormatVersion)
        {
            throw new VhdFormatException("footer.file_format_version", offset + 12, $"0x{FileFormatVersion:X8} is not 0x00010000");
        }

        if (DiskType is not (DiskType.Dynamic or DiskType.Differencing))
        {
            var what = DiskType == DiskType.Fixed ? "fixed VHDs are not supported (only dynamic and differencing)" : $"unknown disk type {(uint)DiskType}";
            throw new VhdFormatException("footer.disk_type", offset + 60, what);
        }

        if (DataOffset != VhdConstants.HeaderOffset)
        {
            throw new VhdFormatException("footer.data_offset", offset + 16, $"{DataOffset} (a dynamic disk's header is at 512)");
        }

        if (CurrentSize <= 0 || CurrentSize > VhdConstants.MaxDiskSize || CurrentSize % VhdConstants.SectorSize != 0)
        {
            throw new VhdFormatException("footer.current_size", offset + 48, $"{CurrentSize} bytes is not a whole number of sectors between 512 and 2040 GiB");
        }
    }

    public void WriteTo(Span<byte> destination)
    {
        var bytes = destination[..VhdConstants.FooterSize];
        bytes.Clear();
        VhdConstants.FooterCookie.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[8..], Features);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[12..], FileFormatVersion);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[16..], DataOffset);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[24..], Timestamp);
        WriteAscii4(bytes.Slice(28, 4), CreatorApplication);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[32..], CreatorVersion);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[36..], CreatorHostOs);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[40..], (ulong)OriginalSize);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[48..], (ulong)CurrentSize);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[56..], Geometry.Cylinders);
        bytes[58] = Geometry.Heads;
        bytes[59] = Geometry.SectorsPerTrack;
        BinaryPrimitives.WriteUInt32BigEndian(bytes[60..], (uint)DiskType);
        UniqueId.TryWriteBytes(bytes.Slice(68, 16), bigEndian: true, out _);
        bytes[84] = SavedState;
        bytes[85] = Hidden ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(bytes[64..], VhdChecksum.Compute(bytes, 64));
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[VhdConstants.FooterSize];
        WriteTo(bytes);
        return bytes;
    }

    private static void WriteAscii4(Span<byte> destination, string value)
    {
        destination.Clear();
        Encoding.Latin1.GetBytes(value.AsSpan(0, Math.Min(4, value.Length)), destination);
    }
}
