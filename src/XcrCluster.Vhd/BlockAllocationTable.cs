using System.Buffers.Binary;

namespace XcrCluster.Vhd;

/// <summary>
/// The BAT: one big-endian uint32 per block, the sector number of the block's bitmap, 0xFFFFFFFF when unallocated.
/// Padded to whole sectors with 0xFF as XAPI does.
/// </summary>
public sealed class BlockAllocationTable
{
    private readonly uint[] entries;

    private BlockAllocationTable(uint[] entries) => this.entries = entries;

    public int Count => entries.Length;

    public uint this[int index]
    {
        get => entries[index];
        internal set => entries[index] = value;
    }

    /// <summary>Whole sectors, at least one (vhd-lib counts max(1, ceil(4·entries/512)) sectors).</summary>
    public static long SizeInBytes(int entries) => Math.Max(VhdConstants.SectorSize, VhdConstants.RoundUpToSector(4L * entries));

    public static BlockAllocationTable CreateEmpty(int entries)
    {
        var table = new uint[entries];
        Array.Fill(table, VhdConstants.UnallocatedBlock);
        return new BlockAllocationTable(table);
    }

    public static BlockAllocationTable Parse(ReadOnlySpan<byte> bytes, int entries)
    {
        var table = new uint[entries];
        for (var i = 0; i < entries; i++)
        {
            table[i] = BinaryPrimitives.ReadUInt32BigEndian(bytes[(4 * i)..]);
        }

        return new BlockAllocationTable(table);
    }

    public bool IsAllocated(int index) => entries[index] != VhdConstants.UnallocatedBlock;

    /// <summary>Byte offset of the block's bitmap in the file.</summary>
    public long BlockOffset(int index) => (long)entries[index] * VhdConstants.SectorSize;

    public void WriteTo(Span<byte> destination)
    {
        destination[..(int)SizeInBytes(entries.Length)].Fill(0xFF);
        for (var i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[(4 * i)..], entries[i]);
        }
    }

    public IEnumerable<int> AllocatedIndices()
    {
        for (var i = 0; i < entries.Length; i++)
        {
            if (IsAllocated(i))
            {
                yield return i;
            }
        }
    }

    /// <summary>
    /// Checks every allocated entry against the file's layout and returns the allocated block indices in
    /// physical order. A block must lie after the BAT and outside parent-locator data, inside
    /// <paramref name="dataEnd"/> when the end is known, and must not overlap another block.
    /// </summary>
    internal int[] ValidateLayout(VhdHeader header, long? dataEnd)
    {
        var blockTotal = header.BlockTotalSize;
        var allocated = new List<int>();
        for (var i = 0; i < entries.Length; i++)
        {
            if (!IsAllocated(i))
            {
                continue;
            }

            var start = BlockOffset(i);
            var field = $"bat[{i}]";
            var fieldOffset = header.TableOffset + (4L * i);
            if (start < header.TableEnd)
            {
                throw new VhdFormatException(field, fieldOffset, $"block at byte {start} points into the metadata (footer, header or BAT end at byte {header.TableEnd})");
            }

            if (dataEnd is { } end && start + blockTotal > end)
            {
                throw new VhdFormatException(field, fieldOffset, $"block at byte {start} ends past the end of the data (byte {end})");
            }

            foreach (var locator in header.ParentLocators)
            {
                if (locator.IsUsed && locator.DataLength > 0 && start < (long)locator.DataOffset + locator.DataLength && (long)locator.DataOffset < start + blockTotal)
                {
                    throw new VhdFormatException(field, fieldOffset, $"block at byte {start} overlaps parent locator data at byte {locator.DataOffset}");
                }
            }

            allocated.Add(i);
        }

        var ordered = allocated.ToArray();
        // Ties broken by index (Array.Sort is unstable), so of two blocks at one offset the later entry is the one reported.
        Array.Sort(ordered, (a, b) => entries[a] != entries[b] ? entries[a].CompareTo(entries[b]) : a.CompareTo(b));
        for (var k = 1; k < ordered.Length; k++)
        {
            if (BlockOffset(ordered[k]) < BlockOffset(ordered[k - 1]) + blockTotal)
            {
                throw new VhdFormatException($"bat[{ordered[k]}]", header.TableOffset + (4L * ordered[k]),
                    $"block at byte {BlockOffset(ordered[k])} overlaps block {ordered[k - 1]} at byte {BlockOffset(ordered[k - 1])}");
            }
        }

        return ordered;
    }
}
