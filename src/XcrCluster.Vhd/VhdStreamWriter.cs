namespace XcrCluster.Vhd;

/// <summary>
/// Forward-only writer of a VHD in XAPI's streamed layout. The block list is fixed up front, so the exact
/// length (XAPI's /import_raw_vdi needs Content-Length) is known before the first byte.
/// Use: <see cref="WriteHeadersAsync"/>, one <see cref="WriteBlockAsync"/> per present block in ascending
/// index order, then <see cref="CompleteAsync"/>.
/// </summary>
public sealed class VhdStreamWriter
{
    private static readonly byte[] Zeros = new byte[64 * 1024];
    private readonly Stream output;
    private readonly IReadOnlyList<int> presentBlocks;
    private readonly byte[] fullBitmap;
    private readonly byte[] prefix;
    private int next = -1;

    /// <param name="output">Where the bytes go; never sought.</param>
    /// <param name="virtualSize">Disk size in bytes, a whole number of sectors.</param>
    /// <param name="presentBlocks">Indices of the blocks to include, strictly ascending.</param>
    /// <param name="parent">Set for a differencing disk (a delta against that parent).</param>
    public VhdStreamWriter(Stream output, long virtualSize, IReadOnlyList<int> presentBlocks, VhdParent? parent = null,
        int blockSize = VhdConstants.DefaultBlockSize, Guid? uniqueId = null)
    {
        VhdLayout.ValidateVirtualSize(virtualSize);
        this.output = output;
        this.presentBlocks = presentBlocks;
        Header = VhdLayout.CreateHeader(virtualSize, blockSize, parent);
        Footer = VhdFooter.Create(parent is null ? DiskType.Dynamic : DiskType.Differencing, virtualSize, uniqueId ?? Guid.NewGuid());

        var bat = BlockAllocationTable.CreateEmpty(Header.MaxTableEntries);
        var sector = Header.TableEnd / VhdConstants.SectorSize;
        var sectorsPerBlock = Header.BlockTotalSize / VhdConstants.SectorSize;
        for (var k = 0; k < presentBlocks.Count; k++)
        {
            var index = presentBlocks[k];
            if (index < 0 || index >= Header.MaxTableEntries || (k > 0 && index <= presentBlocks[k - 1]))
            {
                throw new ArgumentException($"block indices must be strictly ascending and below {Header.MaxTableEntries}; got {index} at position {k}", nameof(presentBlocks));
            }

            bat[index] = (uint)(sector + (k * sectorsPerBlock));
        }

        fullBitmap = new byte[Header.BitmapSize];
        Array.Fill(fullBitmap, (byte)0xFF);
        prefix = VhdLayout.BuildPrefix(Footer, Header, bat);
        Length = ComputeLength(virtualSize, presentBlocks.Count, blockSize);
    }

    public VhdFooter Footer { get; }

    public VhdHeader Header { get; }

    /// <summary>The exact number of bytes the stream will hold.</summary>
    public long Length { get; }

    public long BytesWritten { get; private set; }

    public static long ComputeLength(long virtualSize, int presentBlocks, int blockSize = VhdConstants.DefaultBlockSize)
    {
        var entries = VhdHeader.BlockCountFor(virtualSize, blockSize);
        var blockTotal = (long)SectorBitmap.SizeFor(blockSize) + blockSize;
        return VhdLayout.TableOffset + BlockAllocationTable.SizeInBytes(entries) + (presentBlocks * blockTotal) + VhdConstants.FooterSize;
    }

    public async Task WriteHeadersAsync(CancellationToken ct = default)
    {
        if (next != -1)
        {
            throw new InvalidOperationException("the headers were already written");
        }

        await WriteAsync(prefix, ct).ConfigureAwait(false);
        next = 0;
    }

    /// <summary>Writes the next present block. Data shorter than a block (the disk's last block) is zero-padded;
    /// the bitmap defaults to all sectors present, as XAPI sends whole blocks.</summary>
    public async Task WriteBlockAsync(int index, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> bitmap = default, CancellationToken ct = default)
    {
        if (next < 0 || next >= presentBlocks.Count || presentBlocks[next] != index)
        {
            var expected = next < 0 ? "the headers" : next < presentBlocks.Count ? $"block {presentBlocks[next]}" : "CompleteAsync";
            throw new InvalidOperationException($"block {index} written out of order: {expected} comes next");
        }

        if (data.Length > Header.BlockSize || (!bitmap.IsEmpty && bitmap.Length != Header.BitmapSize))
        {
            throw new ArgumentException($"a block holds at most {Header.BlockSize} bytes and a {Header.BitmapSize}-byte bitmap");
        }

        await WriteAsync(bitmap.IsEmpty ? fullBitmap : bitmap, ct).ConfigureAwait(false);
        await WriteAsync(data, ct).ConfigureAwait(false);
        await WriteZerosAsync(Header.BlockSize - data.Length, ct).ConfigureAwait(false);
        next++;
    }

    public async Task CompleteAsync(CancellationToken ct = default)
    {
        if (next != presentBlocks.Count)
        {
            throw new InvalidOperationException($"{presentBlocks.Count - Math.Max(next, 0)} blocks are still to be written");
        }

        await WriteAsync(prefix.AsMemory(0, VhdConstants.FooterSize), ct).ConfigureAwait(false);
        await output.FlushAsync(ct).ConfigureAwait(false);
        next++;
    }

    private async ValueTask WriteZerosAsync(long count, CancellationToken ct)
    {
        while (count > 0)
        {
            var n = (int)Math.Min(count, Zeros.Length);
            await WriteAsync(Zeros.AsMemory(0, n), ct).ConfigureAwait(false);
            count -= n;
        }
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        await output.WriteAsync(bytes, ct).ConfigureAwait(false);
        BytesWritten += bytes.Length;
    }
}
