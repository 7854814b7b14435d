namespace XcrCluster.Vhd;

public static class VhdConstants
{
    public const int SectorSize = 512;
    public const int FooterSize = 512;
    public const int HeaderSize = 1024;

    /// <summary>Where the dynamic header starts: XAPI, qemu, vhd-lib and blktap all use 512 (vhd-lib requires it).</summary>
    public const int HeaderOffset = 512;

    public const int DefaultBlockSize = 2 * 1024 * 1024;
    public const int MinBlockSize = SectorSize;

    /// <summary>Larger block sizes exist in no tool we interoperate with; refusing them bounds every block buffer.</summary>
    public const int MaxBlockSize = 32 * 1024 * 1024;

    /// <summary>2040 GiB: XAPI's max_vhd_size, qemu's VHD_MAX_SECTORS.</summary>
    public const long MaxDiskSize = 2040L * 1024 * 1024 * 1024;

    /// <summary>Caps the BAT at 16 MiB (enough for 2040 GiB at 512 KiB blocks) before anything is allocated.</summary>
    public const uint MaxTableEntries = 4 * 1024 * 1024;

    public const uint UnallocatedBlock = 0xFFFFFFFF;
    public const ulong NoDataOffset = ulong.MaxValue;
    public const uint FormatVersion = 0x00010000;

    /// <summary>Seconds from the Unix epoch to the VHD epoch, 2000-01-01T00:00:00Z.</summary>
    public const long VhdEpochUnixSeconds = 946_684_800;

    internal static ReadOnlySpan<byte> FooterCookie => "conectix"u8;
    internal static ReadOnlySpan<byte> HeaderCookie => "cxsparse"u8;

    public static long RoundUpToSector(long bytes) => (bytes + SectorSize - 1) & ~(long)(SectorSize - 1);

    public static bool IsPowerOfTwo(long value) => value > 0 && (value & (value - 1)) == 0;

    public static uint ToVhdTimestamp(DateTimeOffset time)
        => (uint)Math.Clamp(time.ToUnixTimeSeconds() - VhdEpochUnixSeconds, 0, uint.MaxValue);
}

public enum DiskType : uint
{
    Fixed = 2,
    Dynamic = 3,
    Differencing = 4,
}
