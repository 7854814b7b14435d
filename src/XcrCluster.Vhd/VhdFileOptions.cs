namespace XcrCluster.Vhd;

public sealed record VhdCreateOptions
{
    public int BlockSize { get; init; } = VhdConstants.DefaultBlockSize;

    public Guid? UniqueId { get; init; }

    /// <summary>BAT capacity, so the disk can later grow up to this size without moving the BAT.</summary>
    public long? MaxVirtualSize { get; init; }

    /// <summary>Flush to disk between the steps of a block allocation (data, then footer, then BAT).</summary>
    public bool Durable { get; init; } = true;
}

public sealed record VhdOpenOptions
{
    public bool Writable { get; init; }

    public bool Durable { get; init; } = true;

    /// <summary>Opens the parent of a differencing disk by the name its header records; the default opens that
    /// file name next to the child, read-only. The child takes ownership of what this returns; a VhdFile
    /// returned here is still checked against the unique id the child's header records.</summary>
    public Func<string, IVirtualDisk>? OpenParent { get; init; }

    /// <summary>False to open a differencing disk alone (its unallocated sectors then read as zero).</summary>
    public bool ResolveParent { get; init; } = true;
}
