using System.Collections.Concurrent;
using XcrCluster.Vhd;

namespace XcrCluster.XapiSim.Storage;

/// <summary>A null SR's side of the storage: per disk location, the hash of its content (memory only, so a
/// restarted simulator knows its null SR disks as zeros).</summary>
public sealed partial class SrStorage
{
    private readonly ConcurrentDictionary<string, NullContent> hashes = new(StringComparer.Ordinal);

    /// <summary>A null SR disk's content hash; null when it was hashed at another size (VDI.resize since).</summary>
    public NullContent? NullContentOf(string location, long virtualSize)
    {
        var known = hashes.TryGetValue(location, out var h) ? h : null;
        return known is null ? NullContent.Zeros(virtualSize) : known.Size == virtualSize ? known : null;
    }

    /// <summary>A null SR disk takes another's content (VM.copy between null SR disks).</summary>
    public void SetNullContent(string location, NullContent? content)
    {
        if (content is null)
        {
            hashes.TryRemove(location, out _);
        }
        else
        {
            hashes[location] = content;
        }
    }

    /// <summary>The content of a disk for reading whole (exports, copies): a null SR's disks are zeros.</summary>
    public IVirtualDisk OpenContent(string location, long virtualSize) => IsNull ? new ZeroDisk(virtualSize) : Open(location);
}
