namespace XcrCluster.Vhd;

/// <summary>Anything a differencing disk can sit on: a VHD file, or a disk whose content is generated.</summary>
public interface IVirtualDisk : IDisposable
{
    long VirtualSize { get; }

    /// <summary>Reads whole sectors of the virtual disk.</summary>
    void Read(long offset, Span<byte> destination);
}
