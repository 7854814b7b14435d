namespace XcrCluster.Vhd;

/// <summary>One of the eight 24-byte parent locator entries of a differencing disk's header.</summary>
public readonly record struct ParentLocator(uint PlatformCode, uint DataSpace, uint DataLength, ulong DataOffset)
{
    public const uint None = 0;

    /// <summary>"MacX": a UTF-8 file:// URL; what XAPI writes.</summary>
    public const uint MacX = 0x4D616358;

    /// <summary>"W2ku": absolute path, UTF-16LE; what vhd-lib writes.</summary>
    public const uint W2ku = 0x57326B75;

    /// <summary>"W2ru": relative path, UTF-16LE.</summary>
    public const uint W2ru = 0x57327275;

    public const int EntrySize = 24;
    public const int Count = 8;

    /// <summary>Caps what a reader will load for one locator.</summary>
    public const int MaxDataLength = 64 * 1024;

    public bool IsUsed => PlatformCode != None;

    /// <summary>Space in bytes: the spec says sectors, but XAPI reads values of 512 and more as bytes (a Viridian quirk).</summary>
    public long DataSpaceBytes => DataSpace < VhdConstants.SectorSize ? (long)DataSpace * VhdConstants.SectorSize : DataSpace;
}
