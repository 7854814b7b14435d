using System.Runtime.CompilerServices;

namespace XcrCluster.Vhd;

/// <summary>
/// Forward-only reader of a VHD stream such as XAPI's /export_raw_vdi sends (footer, header, BAT, blocks,
/// trailing footer). Never seeks backwards, buffers at most one block, and validates every field before it
/// sizes anything by it.
/// </summary>
public sealed class VhdStreamReader
{
    private readonly ForwardInput input;
    private readonly int[] physicalOrder;
    private int next;
    private byte[]? blockBuffer;

    private VhdStreamReader(ForwardInput input, VhdFooter footer, VhdHeader header, BlockAllocationTable bat, int[] physicalOrder)
    {
        this.input = input;
        Footer = footer;
        Header = header;
        Bat = bat;
        this.physicalOrder = physicalOrder;
    }

    public VhdFooter Footer { get; }

    public VhdHeader Header { get; }

    public BlockAllocationTable Bat { get; }

    /// <summary>Indices of the blocks the stream holds, in the order they will be read (ascending offset).</summary>
    public IReadOnlyList<int> PresentBlocks => physicalOrder;

    /// <summary>The footer at the end of the stream, once every block has been read.</summary>
    public VhdFooter? TrailingFooter { get; private set; }

    public long VirtualSize => Footer.CurrentSize;

    public long Position => input.Position;

    public static async Task<VhdStreamReader> OpenAsync(Stream stream, CancellationToken ct = default)
    {
        var input = new ForwardInput(stream);
        var footerBytes = new byte[VhdConstants.FooterSize];
        await input.ReadExactlyAsync(footerBytes, "footer", ct).ConfigureAwait(false);
        var footer = VhdFooter.Parse(footerBytes, 0);

        await input.SkipToAsync((long)footer.DataOffset, "footer.data_offset", ct).ConfigureAwait(false);
        var headerBytes = new byte[VhdConstants.HeaderSize];
        await input.ReadExactlyAsync(headerBytes, "header", ct).ConfigureAwait(false);
        var header = VhdHeader.Parse(headerBytes, (long)footer.DataOffset, footer);

        await input.SkipToAsync(header.TableOffset, "header.table_offset", ct).ConfigureAwait(false);
        var batBytes = new byte[header.TableSize];
        await input.ReadExactlyAsync(batBytes, "bat", ct).ConfigureAwait(false);
        var bat = BlockAllocationTable.Parse(batBytes, header.MaxTableEntries);
        var order = bat.ValidateLayout(header, dataEnd: null);
        return new VhdStreamReader(input, footer, header, bat, order);
    }

    /// <summary>The next block in stream order, or null once the trailing footer has been read and checked.
    /// The block's memory is reused by the next read.</summary>
    public ValueTask<VhdBlock?> ReadBlockAsync(CancellationToken ct = default)
        => ReadBlockAsync(blockBuffer ??= GC.AllocateUninitializedArray<byte>((int)Header.BlockTotalSize), ct);

    /// <summary>The next block read into the caller's buffer (at least <see cref="VhdHeader.BlockTotalSize"/>
    /// bytes, e.g. from a pool), so blocks can outlive the next read.</summary>
    public async ValueTask<VhdBlock?> ReadBlockAsync(byte[] buffer, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buffer.LongLength, Header.BlockTotalSize, nameof(buffer));
        if (next == physicalOrder.Length)
        {
            if (TrailingFooter is null)
            {
                var tail = new byte[VhdConstants.FooterSize];
                await input.ReadTailAsync(tail, "footer (trailing)", ct).ConfigureAwait(false);
                TrailingFooter = VhdFooter.Parse(tail, input.Position - VhdConstants.FooterSize);
            }

            return null;
        }

        var index = physicalOrder[next++];
        var field = $"block {index}";
        await input.SkipToAsync(Bat.BlockOffset(index), field, ct).ConfigureAwait(false);
        var total = (int)Header.BlockTotalSize;
        await input.ReadExactlyAsync(buffer.AsMemory(0, total), field, ct).ConfigureAwait(false);
        var bitmapSize = Header.BitmapSize;
        return new VhdBlock(index, buffer.AsMemory(0, bitmapSize), buffer.AsMemory(bitmapSize, total - bitmapSize));
    }

    public async IAsyncEnumerable<VhdBlock> ReadBlocksAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        while (await ReadBlockAsync(ct).ConfigureAwait(false) is { } block)
        {
            yield return block;
        }
    }
}
