using System.Buffers.Binary;
using XcrCluster.Vhd;

namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// A disk whose content is generated on read from a seed (no file), so benchmarks and memory tests can
/// export many GiB without the disk space. Every block is "allocated"; a block's bytes depend only on the
/// seed and the byte offset, so any read of the same range returns the same bytes.
/// </summary>
public sealed class SyntheticDisk(long virtualSize, ulong seed) : IVirtualDisk
{
    /// <summary>How a differencing file names a synthetic parent: "synthetic:SEED:SIZE".</summary>
    public const string NamePrefix = "synthetic:";

    public long VirtualSize { get; } = virtualSize;

    public ulong Seed { get; } = seed;

    public string Name => $"{NamePrefix}{Seed}:{VirtualSize}";

    public static bool TryParse(string name, out SyntheticDisk disk)
    {
        disk = null!;
        var parts = name.Split(':');
        if (parts.Length != 3 || parts[0] + ":" != NamePrefix || !ulong.TryParse(parts[1], out var seed) || !long.TryParse(parts[2], out var size))
        {
            return false;
        }

        disk = new SyntheticDisk(size, seed);
        return true;
    }

    public void Read(long offset, Span<byte> destination)
    {
        // splitmix64 of (seed, 8-byte word index): cheap, seekable, and not compressible.
        var word = offset / 8;
        var i = 0;
        while (i + 8 <= destination.Length)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[i..], Mix(Seed ^ (ulong)word));
            word++;
            i += 8;
        }
    }

    public void Dispose()
    {
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
