namespace XcrCluster.Vhd;

/// <summary>Per-block sector bitmap, MSB first: sector s is bit 0x80 >> (s &amp; 7) of byte s >> 3.</summary>
public static class SectorBitmap
{
    /// <summary>Bytes on disk for a block's bitmap: one bit per sector, rounded up to whole sectors (512 for 2 MiB).</summary>
    public static int SizeFor(int blockSize) => (int)VhdConstants.RoundUpToSector((blockSize / VhdConstants.SectorSize + 7) / 8);

    public static bool IsSet(ReadOnlySpan<byte> bitmap, int sector) => (bitmap[sector >> 3] & (0x80 >> (sector & 7))) != 0;

    public static void Set(Span<byte> bitmap, int sector) => bitmap[sector >> 3] |= (byte)(0x80 >> (sector & 7));

    public static void SetRange(Span<byte> bitmap, int firstSector, int count)
    {
        for (var s = firstSector; s < firstSector + count; s++)
        {
            Set(bitmap, s);
        }
    }

    /// <summary>Length of the run of sectors starting at <paramref name="sector"/> whose bits equal that sector's bit.
    /// Whole bytes of the run are skipped in one vectorized scan: a full or empty 2 MiB block's bitmap (what imports
    /// mostly see) costs a 512-byte compare, not 4 096 bit tests.</summary>
    public static int RunLength(ReadOnlySpan<byte> bitmap, int sector, int limit)
    {
        var value = IsSet(bitmap, sector);
        var end = sector + 1;
        while (end < limit && (end & 7) != 0)
        {
            if (IsSet(bitmap, end) != value)
            {
                return end - sector;
            }

            end++;
        }

        var (from, whole) = (end >> 3, limit >> 3);
        if (from < whole)
        {
            var other = bitmap[from..whole].IndexOfAnyExcept(value ? (byte)0xFF : (byte)0);
            end = (other < 0 ? whole : from + other) << 3;
        }

        while (end < limit && IsSet(bitmap, end) == value)
        {
            end++;
        }

        return end - sector;
    }

    /// <summary>True when every sector bit of a block is set (XAPI sends whole blocks like that).</summary>
    public static bool AllSet(ReadOnlySpan<byte> bitmap, int sectors)
    {
        var fullBytes = sectors >> 3;
        if (bitmap[..fullBytes].ContainsAnyExcept((byte)0xFF))
        {
            return false;
        }

        for (var s = fullBytes << 3; s < sectors; s++)
        {
            if (!IsSet(bitmap, s))
            {
                return false;
            }
        }

        return true;
    }
}
