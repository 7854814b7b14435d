namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// The sizes of a file SR's VHD files, kept as they change rather than read from the directory at every call: an
/// SR of thousands of disks made each VDI call stat every file (O(VDIs on the SR), about 40 ms at 1 000 VMs).
/// The directory is listed once, at first use; after that every operation of this class that creates, grows,
/// moves or deletes a file measures that file again (one stat), and so does <see cref="Measure"/> for writes made
/// through <see cref="Open"/> (guest writes). The total is what the directory's "*.vhd" files hold, orphans included.
/// </summary>
public sealed partial class SrStorage
{
    private readonly Lock usageLock = new();
    private Dictionary<string, long>? fileSizes;
    private long usedBytes;

    /// <summary>The bytes of every VHD file of the SR (0 on a null SR).</summary>
    public long PhysicalUsage()
    {
        if (IsNull)
        {
            return 0;
        }

        lock (usageLock)
        {
            Sizes();
            return usedBytes;
        }
    }

    /// <summary>The size of a disk's file as last measured; 0 when it has none.</summary>
    public long FileSize(string location)
    {
        if (IsNull)
        {
            return 0;
        }

        lock (usageLock)
        {
            return Sizes().GetValueOrDefault(location);
        }
    }

    /// <summary>Reads one file's size again (after a write, a move or a delete) and returns it.</summary>
    public long Measure(string location)
    {
        if (IsNull)
        {
            return 0;
        }

        long size;
        lock (usageLock)
        {
            // Stat and record together, so two measures of one file cannot land out of order.
            var file = new FileInfo(PathOf(location));
            size = file.Exists ? file.Length : 0;
            var sizes = Sizes();
            usedBytes += size - sizes.GetValueOrDefault(location);
            if (file.Exists)
            {
                sizes[location] = size;
            }
            else
            {
                sizes.Remove(location);
            }
        }

        return size;
    }

    private Dictionary<string, long> Sizes()
    {
        if (fileSizes is null)
        {
            fileSizes = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var file in new DirectoryInfo(Dir).EnumerateFiles("*.vhd"))
            {
                fileSizes[file.Name[..^".vhd".Length]] = file.Length;
            }

            usedBytes = fileSizes.Values.Sum();
        }

        return fileSizes;
    }
}
