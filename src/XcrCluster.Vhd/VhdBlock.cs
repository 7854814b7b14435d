namespace XcrCluster.Vhd;

/// <summary>
/// One allocated block as it appears in a VHD stream: its index in the disk, its sector bitmap and its full
/// block of data (a last block past the virtual size still carries the full block). The memory is the
/// reader's own buffer and is valid only until the next read.
/// </summary>
public readonly record struct VhdBlock(int Index, ReadOnlyMemory<byte> Bitmap, ReadOnlyMemory<byte> Data);
