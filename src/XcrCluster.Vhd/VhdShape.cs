namespace XcrCluster.Vhd;

/// <summary>What a VHD stream writer needs to know before the first block: the disk size, the blocks that will
/// come (ascending), the parent of a differencing disk, the block size. It travels with a transfer to its target.</summary>
public sealed record VhdShape(long VirtualSize, IReadOnlyList<int> PresentBlocks, VhdParent? Parent, int BlockSize)
{
    /// <summary>The shape of the stream a reader is reading.</summary>
    public static VhdShape Of(VhdStreamReader reader) => new(reader.VirtualSize, reader.PresentBlocks.Order().ToList(),
        reader.Footer.DiskType == DiskType.Differencing ? new VhdParent(reader.Header.ParentUniqueId, reader.Header.ParentUnicodeName, reader.Header.ParentTimestamp) : null,
        reader.Header.BlockSize);
}
