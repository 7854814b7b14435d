using System.IO.Hashing;
using XcrCluster.Vhd;

namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// What a null SR knows of a disk's content: the content hash (<see cref="ContentHasher"/>) of the virtual disk
/// as a file SR would hold it after
/// the last import (every byte in order, unwritten sectors zero), for <paramref name="Size"/> bytes. It equals
/// <see cref="GuestWorkload.Checksum"/> of the disk that was sent in full. A null SR has no base to apply a
/// delta to, so after a delta import the hash is that of the delta's blocks over an all-zero disk.
/// </summary>
public sealed record NullContent(string Hash, long Size)
{
    /// <summary>A disk nothing was imported into: all zeros.</summary>
    public static NullContent Zeros(long size)
    {
        return new ContentHasher(size).Finish();
    }
}

/// <summary>
/// The content hash of a virtual disk fed in ascending offsets (the gaps between writes and the tail are zeros):
/// XXH128 of every byte in order, lower-case hex, the same whichever side computes it (a null SR's import, a file
/// disk's <see cref="GuestWorkload.Checksum"/>, a test's <see cref="Of"/>). Not SHA-256: it only tells disks
/// apart in tests, and the null SR hashes every byte it is sent, so its CPU per byte bounds what the benchmarks
/// can show (SHA-256 ran at about 0.6 GB per CPU second here, XXH128 at many times that).
/// </summary>
public sealed class ContentHasher(long size)
{
    private static readonly byte[] ZeroBlock = new byte[VhdConstants.DefaultBlockSize];
    private readonly XxHash128 hash = new();
    private long next;

    /// <summary>The hash of a whole image in memory, as <see cref="Finish"/> gives it for the same bytes.</summary>
    public static string Of(ReadOnlySpan<byte> image) => Convert.ToHexStringLower(XxHash128.Hash(image));

    public long Size => size;

    /// <summary>Where the next write may start at the earliest.</summary>
    public long Next => next;

    public void Append(long offset, ReadOnlySpan<byte> data)
    {
        if (offset < next || offset + data.Length > size)
        {
            throw new InvalidOperationException($"[{offset}, +{data.Length}) is not after byte {next} within the {size}-byte disk");
        }

        Zeros(offset - next);
        hash.Append(data);
        next = offset + data.Length;
    }

    public NullContent Finish()
    {
        Zeros(size - next);
        next = size;
        return new NullContent(Convert.ToHexStringLower(hash.GetHashAndReset()), size);
    }

    private void Zeros(long count)
    {
        for (; count > 0; count -= ZeroBlock.Length)
        {
            hash.Append(ZeroBlock.AsSpan(0, (int)Math.Min(count, ZeroBlock.Length)));
        }
    }
}

/// <summary>How a null SR's disk reads (exports, VM.copy from it): zeros of its virtual size, since it stores nothing.</summary>
public sealed class ZeroDisk(long size) : IVirtualDisk
{
    public long VirtualSize => size;

    public void Read(long offset, Span<byte> destination) => destination.Clear();

    public void Dispose()
    {
    }
}
