using System.Security.Cryptography;
using XcrCluster.Vhd;

namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// What a null SR knows of a disk's content: the SHA-256 of the virtual disk as a file SR would hold it after
/// the last import (every byte in order, unwritten sectors zero), for <paramref name="Size"/> bytes. It equals
/// <see cref="GuestWorkload.Checksum"/> of the disk that was sent in full. A null SR has no base to apply a
/// delta to, so after a delta import the hash is that of the delta's blocks over an all-zero disk.
/// </summary>
public sealed record NullContent(string Sha256, long Size)
{
    /// <summary>A disk nothing was imported into: all zeros.</summary>
    public static NullContent Zeros(long size)
    {
        using var hasher = new ContentHasher(size);
        return hasher.Finish();
    }
}

/// <summary>SHA-256 of a virtual disk fed in ascending offsets; the gaps between writes and the tail are zeros.</summary>
public sealed class ContentHasher(long size) : IDisposable
{
    private static readonly byte[] ZeroBlock = new byte[VhdConstants.DefaultBlockSize];
    private readonly IncrementalHash sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long next;

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
        sha.AppendData(data);
        next = offset + data.Length;
    }

    public NullContent Finish()
    {
        Zeros(size - next);
        next = size;
        return new NullContent(Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant(), size);
    }

    private void Zeros(long count)
    {
        for (; count > 0; count -= ZeroBlock.Length)
        {
            sha.AppendData(ZeroBlock, 0, (int)Math.Min(count, ZeroBlock.Length));
        }
    }

    public void Dispose() => sha.Dispose();
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
