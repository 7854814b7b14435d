namespace XcrCluster.Vhd;

/// <summary>CHS geometry of the footer. Only qemu looks at it (it sizes non-qemu VHDs by it).</summary>
public readonly record struct DiskGeometry(ushort Cylinders, byte Heads, byte SectorsPerTrack)
{
    public long CapacityBytes => (long)Cylinders * Heads * SectorsPerTrack * VhdConstants.SectorSize;

    /// <summary>The VHD specification's algorithm as XAPI's vhd-tool implements it (">" at the 255-spt threshold).</summary>
    public static DiskGeometry FromSize(long sizeBytes)
    {
        long totalSectors = Math.Min(sizeBytes / VhdConstants.SectorSize, 65535L * 16 * 255);
        long sectorsPerTrack;
        long heads;
        long cylinderTimesHeads;
        if (totalSectors > 65535L * 16 * 63)
        {
            sectorsPerTrack = 255;
            heads = 16;
            cylinderTimesHeads = totalSectors / sectorsPerTrack;
        }
        else
        {
            sectorsPerTrack = 17;
            cylinderTimesHeads = totalSectors / sectorsPerTrack;
            heads = Math.Max((cylinderTimesHeads + 1023) / 1024, 4);
            if (cylinderTimesHeads >= heads * 1024 || heads > 16)
            {
                sectorsPerTrack = 31;
                heads = 16;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
            }

            if (cylinderTimesHeads >= heads * 1024)
            {
                sectorsPerTrack = 63;
                heads = 16;
                cylinderTimesHeads = totalSectors / sectorsPerTrack;
            }
        }

        return new DiskGeometry((ushort)(cylinderTimesHeads / heads), (byte)heads, (byte)sectorsPerTrack);
    }
}
