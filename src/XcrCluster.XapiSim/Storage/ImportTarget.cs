using System.Buffers;
using XcrCluster.Vhd;

namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// Where an import (raw, VHD, XVA, VM.copy) puts a disk's content: the disk changes only at
/// <see cref="Commit"/>; disposed without it, the VDI stays as it was.
/// </summary>
public abstract class ImportTarget : IDisposable
{
    public abstract long VirtualSize { get; }

    public int BlockSize => VhdConstants.DefaultBlockSize;

    public int BlockCount => VhdHeader.BlockCountFor(VirtualSize, BlockSize);

    /// <summary>The blocks a VHD stream will send, in its order, before the first <see cref="WriteBlock"/>.</summary>
    public virtual void Expect(IReadOnlyList<int> blocks)
    {
    }

    /// <summary>A VHD block: only the sectors whose bitmap bit is set are written.</summary>
    public abstract void WriteBlock(int index, ReadOnlySpan<byte> bitmap, ReadOnlySpan<byte> data);

    /// <summary>Whole sectors of raw content; calls come in ascending offsets.</summary>
    public abstract void Write(long offset, ReadOnlySpan<byte> data);

    public abstract void Commit();

    public abstract void Dispose();

    /// <summary>The sectors of a block that a bitmap sets, the others zero, cut at the disk's end.</summary>
    protected static ReadOnlySpan<byte> Masked(ReadOnlySpan<byte> bitmap, ReadOnlySpan<byte> data, int length, byte[] scratch)
    {
        var sectors = length / VhdConstants.SectorSize;
        if (SectorBitmap.RunLength(bitmap, 0, sectors) == sectors && SectorBitmap.IsSet(bitmap, 0))
        {
            return data[..length];
        }

        for (var sector = 0; sector < sectors;)
        {
            var run = SectorBitmap.RunLength(bitmap, sector, sectors);
            var bytes = scratch.AsSpan(sector * VhdConstants.SectorSize, run * VhdConstants.SectorSize);
            if (SectorBitmap.IsSet(bitmap, sector))
            {
                data.Slice(sector * VhdConstants.SectorSize, bytes.Length).CopyTo(bytes);
            }
            else
            {
                bytes.Clear();
            }

            sector += run;
        }

        return scratch.AsSpan(0, length);
    }
}

/// <summary>A null SR's import: nothing is stored, the content is hashed in disk order (see
/// <see cref="NullContent"/>). VHD blocks sent out of index order wait in memory until the blocks before them came.</summary>
internal sealed class NullImport(long size, Action<NullContent> commit) : ImportTarget
{
    private readonly ContentHasher hasher = new(size);
    private readonly SortedDictionary<int, byte[]> early = [];
    private byte[]? scratch;
    private int[] expected = [];
    private int nextExpected;

    public override long VirtualSize => size;

    public override void Expect(IReadOnlyList<int> blocks)
    {
        expected = [.. blocks.Order()];
        nextExpected = 0;
    }

    public override void WriteBlock(int index, ReadOnlySpan<byte> bitmap, ReadOnlySpan<byte> data)
    {
        var start = (long)index * BlockSize;
        var length = (int)Math.Min(BlockSize, size - start);
        var content = Masked(bitmap, data, length, scratch ??= ArrayPool<byte>.Shared.Rent(BlockSize));
        if (nextExpected < expected.Length && expected[nextExpected] != index)
        {
            early[index] = content.ToArray();
            return;
        }

        hasher.Append(start, content);
        nextExpected++;
        while (nextExpected < expected.Length && early.Remove(expected[nextExpected], out var waiting))
        {
            hasher.Append((long)expected[nextExpected] * BlockSize, waiting);
            nextExpected++;
        }
    }

    public override void Write(long offset, ReadOnlySpan<byte> data) => hasher.Append(offset, data);

    public override void Commit() => commit(hasher.Finish());

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref scratch, null) is { } rented)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>A file SR's import: a staged copy of the VDI's file, renamed over it at commit (crash safe).</summary>
internal sealed class FileImport(VhdFile disk, Action commit, Action abandon) : ImportTarget
{
    [ThreadStatic]
    private static byte[]? zeroCheck;
    private bool done;

    private static byte[] ZeroCheck => zeroCheck ??= new byte[VhdConstants.DefaultBlockSize];

    public override long VirtualSize => disk.VirtualSize;

    public override void WriteBlock(int index, ReadOnlySpan<byte> bitmap, ReadOnlySpan<byte> data) => disk.WriteBlock(index, bitmap, data);

    public override void Write(long offset, ReadOnlySpan<byte> data) => WriteSkippingZeros(disk, offset, data);

    /// <summary>Raw content: a zero range only needs writing where the disk holds something else.</summary>
    public static void WriteSkippingZeros(VhdFile disk, long offset, ReadOnlySpan<byte> data)
    {
        if (!data.ContainsAnyExcept((byte)0) && data.Length <= ZeroCheck.Length)
        {
            var existing = ZeroCheck.AsSpan(0, data.Length);
            disk.Read(offset, existing);
            if (!existing.ContainsAnyExcept((byte)0))
            {
                return;
            }
        }

        disk.Write(offset, data);
    }

    public override void Commit()
    {
        disk.Dispose();
        commit();
        done = true;
    }

    public override void Dispose()
    {
        disk.Dispose();
        if (!done)
        {
            abandon();
        }
    }
}
