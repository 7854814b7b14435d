namespace XcrCluster.Vhd.Tests;

/// <summary>
/// One malformed input per test: a valid VHD with some bytes patched. Each must be rejected with a
/// <see cref="VhdFormatException"/> naming the offending field and its absolute byte offset, by the stream
/// reader (seekable and not) and by <see cref="VhdFile"/> wherever the case applies to them.
/// </summary>
public sealed class MalformedInputTests : IDisposable
{
    // The dynamic sample, written by VhdStreamWriter: 4 MiB at 4 KiB blocks, so 1024 BAT entries (a 4096-byte BAT at
    // 2048..6144), blocks 1, 4, 7 and 1023 at 6144, 10752, 15360 and 19968 (4608 bytes each), trailing footer at 24576.
    private const long Size = 4L * 1024 * 1024;
    private const int BlockSize = 4096;
    private const int BlockTotal = 512 + BlockSize;
    private const long TableOffset = 2048;
    private const long TableEnd = 6144;
    private const long Block4 = TableEnd + BlockTotal;
    private const long TrailingFooter = TableEnd + (4 * BlockTotal);
    private const long Length = TrailingFooter + 512;
    private static readonly int[] Present = [1, 4, 7, 1023];

    // Absolute offsets of the fields the tests patch.
    private const int FooterDataOffset = 16;
    private const int FooterCurrentSize = 48;
    private const int FooterDiskType = 60;
    private const int FooterChecksum = 64;
    private const long HeaderAt = 512;
    private const int HeaderTableOffset = 16;
    private const int HeaderMaxTableEntries = 28;
    private const int HeaderBlockSize = 32;
    private const int HeaderChecksum = 36;
    private const int HeaderLocators = 576;

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task Sample_is_valid_before_any_patch()
    {
        var (image, content) = await DynamicAsync();

        Assert.Equal(Length, image.Length);
        Assert.Equal(content, await ReadStreamAsync(new MemoryStream(image)));
        Assert.Equal(content, ReadFile(Save(image)));
        var child = Differencing(out var childContent);
        Assert.Equal(childContent, ReadFile(Save(child, "child.vhd")));
    }

    [Fact]
    public async Task Truncated_inside_the_footer()
    {
        var (image, _) = await DynamicAsync();
        var cut = image[..300];

        await AssertStreamRejectsAsync(cut, "footer", 300);
        AssertFileRejects(cut, "file", 300);
    }

    [Fact]
    public async Task Truncated_inside_the_header()
    {
        var (image, _) = await DynamicAsync();
        var cut = image[..1000];

        await AssertStreamRejectsAsync(cut, "header", 1000);
        AssertFileRejects(cut, "file", 1000);
    }

    [Fact]
    public async Task Truncated_inside_the_bat()
    {
        var (image, _) = await DynamicAsync();
        var cut = image[..4000];

        await AssertStreamRejectsAsync(cut, "bat", 4000);

        // The file's trailing footer is gone, so the copy is used and the BAT is found to end past the end of the file.
        AssertFileRejects(cut, "header.table_offset", HeaderAt + HeaderTableOffset);
    }

    [Fact]
    public async Task Truncated_inside_a_block()
    {
        var (image, _) = await DynamicAsync();
        var cut = image[..(int)(Block4 + 1000)];

        await AssertStreamRejectsAsync(cut, "block 4", Block4 + 1000);
        AssertFileRejects(cut, "bat[4]", TableOffset + (4 * 4));
    }

    [Fact]
    public async Task Truncated_inside_the_trailing_footer()
    {
        var (image, content) = await DynamicAsync();

        await AssertStreamRejectsAsync(image[..(int)(Length - 100)], "footer (trailing)", Length - 100);
        await AssertStreamRejectsAsync(image[..(int)TrailingFooter], "footer (trailing)", TrailingFooter);

        // A file cut there is what a crash while appending a block leaves: it opens from the footer copy.
        Assert.Equal(content, ReadFile(Save(image[..(int)(Length - 100)])));
        Assert.Equal(content, ReadFile(Save(image[..(int)TrailingFooter])));
    }

    [Fact]
    public async Task Wrong_footer_cookie()
    {
        var (image, _) = await DynamicAsync();
        image[0] = (byte)'C';

        await AssertStreamRejectsAsync(image, "footer.cookie", 0);
        AssertFileRejects(image, "footer.cookie", 0);
    }

    [Fact]
    public async Task Wrong_trailing_footer_cookie()
    {
        var (image, content) = await DynamicAsync();
        image[TrailingFooter + 7] = (byte)'X';

        await AssertStreamRejectsAsync(image, "footer.cookie", TrailingFooter);
        Assert.Equal(content, ReadFile(Save(image)));
    }

    [Fact]
    public async Task Wrong_header_cookie()
    {
        var (image, _) = await DynamicAsync();
        image[HeaderAt + 2] = (byte)'S';
        VhdPatch.FixHeaderChecksum(image);

        await AssertStreamRejectsAsync(image, "header.cookie", HeaderAt);
        AssertFileRejects(image, "header.cookie", HeaderAt);
    }

    [Fact]
    public async Task Bad_footer_checksum()
    {
        var (image, _) = await DynamicAsync();
        image[24] ^= 0x10; // timestamp, in both footers
        image[TrailingFooter + 24] ^= 0x10;

        await AssertStreamRejectsAsync(image, "footer.checksum", FooterChecksum);
        AssertFileRejects(image, "footer.checksum", FooterChecksum);
    }

    [Fact]
    public async Task Bad_trailing_footer_checksum()
    {
        var (image, content) = await DynamicAsync();
        VhdPatch.WriteU32(image, TrailingFooter + FooterChecksum, VhdPatch.ReadU32(image, TrailingFooter + FooterChecksum) + 1);

        await AssertStreamRejectsAsync(image, "footer.checksum", TrailingFooter + FooterChecksum);
        Assert.Equal(content, ReadFile(Save(image)));
    }

    [Fact]
    public async Task Bad_header_checksum()
    {
        var (image, _) = await DynamicAsync();
        image[HeaderAt + 800] = 1; // reserved

        await AssertStreamRejectsAsync(image, "header.checksum", HeaderAt + HeaderChecksum);
        AssertFileRejects(image, "header.checksum", HeaderAt + HeaderChecksum);
    }

    [Theory]
    [InlineData(0u)] // the footer copy
    [InlineData(1u)] // the header
    [InlineData(3u)] // the locator sector
    [InlineData(11u)] // the last sector of the BAT itself
    public async Task Bat_entry_pointing_into_the_metadata(uint sector)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.BatEntry(image, TableOffset, 4, sector);

        await AssertStreamRejectsAsync(image, "bat[4]", TableOffset + (4 * 4));
        AssertFileRejects(image, "bat[4]", TableOffset + (4 * 4));
    }

    [Theory]
    [InlineData((uint)(Length / 512) + 100)]
    [InlineData(0xFFFFFFFEu)]
    public async Task Bat_entry_pointing_past_the_end(uint sector)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.BatEntry(image, TableOffset, 4, sector);

        // The stream cannot know its length up front: it reads blocks 1, 7 and 1023, then runs out at block 4.
        await AssertStreamRejectsAsync(image, "block 4", Length);
        AssertFileRejects(image, "bat[4]", TableOffset + (4 * 4));
    }

    [Fact]
    public async Task Bat_entry_pointing_at_the_trailing_footer()
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.BatEntry(image, TableOffset, 1023, (uint)(TrailingFooter / 512));

        await AssertStreamRejectsAsync(image, "block 1023", Length);
        AssertFileRejects(image, "bat[1023]", TableOffset + (4 * 1023));
    }

    [Theory]
    [InlineData(0u)] // the same offset
    [InlineData(1u)] // one sector in
    [InlineData(8u)] // the last sector of block 4
    public async Task Two_bat_entries_overlapping(uint sectorsAfterBlock4)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.BatEntry(image, TableOffset, 7, (uint)(Block4 / 512) + sectorsAfterBlock4);

        await AssertStreamRejectsAsync(image, "bat[7]", TableOffset + (4 * 7));
        AssertFileRejects(image, "bat[7]", TableOffset + (4 * 7));
    }

    [Fact]
    public async Task Two_bat_entries_at_the_same_offset_among_many_blocks_report_the_later_entry()
    {
        // 60 present blocks: more than the 16 below which the sort of the BAT happens to be stable.
        const long size = 64 * BlockSize;
        var present = Enumerable.Range(0, 64).Where(i => i % 16 != 3).ToArray();
        using var output = new MemoryStream();
        var writer = new VhdStreamWriter(output, size, present, blockSize: BlockSize);
        await writer.WriteHeadersAsync();
        foreach (var index in present)
        {
            await writer.WriteBlockAsync(index, new byte[BlockSize]);
        }

        await writer.CompleteAsync();
        var valid = output.ToArray();
        var rng = new Random(5);
        for (var pair = 0; pair < 20; pair++)
        {
            var a = present[rng.Next(present.Length)];
            var b = present[rng.Next(present.Length)];
            if (a == b)
            {
                continue;
            }

            var image = valid.ToArray();
            VhdPatch.BatEntry(image, TableOffset, b, VhdPatch.ReadU32(image, TableOffset + (4 * a)));
            var later = Math.Max(a, b);
            await AssertStreamRejectsAsync(image, $"bat[{later}]", TableOffset + (4 * later));
            AssertFileRejects(image, $"bat[{later}]", TableOffset + (4 * later));
        }
    }

    [Theory]
    [InlineData(3000u)]
    [InlineData(4097u)]
    [InlineData(6144u)]
    [InlineData(0u)]
    public async Task Block_size_not_a_power_of_two(uint blockSize)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.HeaderU32(image, HeaderBlockSize, blockSize);

        await AssertStreamRejectsAsync(image, "header.block_size", HeaderAt + HeaderBlockSize);
        AssertFileRejects(image, "header.block_size", HeaderAt + HeaderBlockSize);
    }

    [Theory]
    [InlineData(1u << 30)]
    [InlineData(64u << 20)]
    [InlineData(0x80000000u)]
    [InlineData(256u)]
    public async Task Block_size_absurd(uint blockSize)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.HeaderU32(image, HeaderBlockSize, blockSize);

        await AssertStreamRejectsAsync(image, "header.block_size", HeaderAt + HeaderBlockSize);
        AssertFileRejects(image, "header.block_size", HeaderAt + HeaderBlockSize);
    }

    [Theory]
    [InlineData((2040UL << 30) + 512)] // over 2040 GiB
    [InlineData(ulong.MaxValue)]
    [InlineData(0UL)]
    [InlineData((ulong)Size + 100)] // not a whole number of sectors
    [InlineData(100UL)]
    public async Task Current_size_absurd(ulong currentSize)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.FooterU64(image, FooterCurrentSize, currentSize);

        await AssertStreamRejectsAsync(image, "footer.current_size", FooterCurrentSize);
        AssertFileRejects(image, "footer.current_size", FooterCurrentSize);
    }

    [Theory]
    [InlineData(1023u)] // 4 MiB needs 1024 blocks of 4 KiB
    [InlineData(0u)]
    [InlineData(1u)]
    public async Task Max_table_entries_too_small_for_the_size(uint entries)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.HeaderU32(image, HeaderMaxTableEntries, entries);

        await AssertStreamRejectsAsync(image, "header.max_table_entries", HeaderAt + HeaderMaxTableEntries);
        AssertFileRejects(image, "header.max_table_entries", HeaderAt + HeaderMaxTableEntries);
    }

    [Fact]
    public async Task Max_table_entries_too_small_for_2040_GiB_at_512_byte_blocks()
    {
        // 2040 GiB at 512-byte blocks needs 4,278,190,080 entries, more than an int holds; 1024 must not pass.
        var (image, _) = await DynamicAsync();
        VhdPatch.FooterU64(image, FooterCurrentSize, 2040UL << 30);
        VhdPatch.HeaderU32(image, HeaderBlockSize, 512);

        await AssertStreamRejectsAsync(image, "header.max_table_entries", HeaderAt + HeaderMaxTableEntries);
        AssertFileRejects(image, "header.max_table_entries", HeaderAt + HeaderMaxTableEntries);
    }

    [Theory]
    [InlineData(VhdConstants.MaxTableEntries + 1)]
    [InlineData(0x7FFFFFFFu)]
    [InlineData(0xFFFFFFFFu)]
    public async Task Max_table_entries_too_large(uint entries)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.HeaderU32(image, HeaderMaxTableEntries, entries);

        await AssertStreamRejectsAsync(image, "header.max_table_entries", HeaderAt + HeaderMaxTableEntries);
        AssertFileRejects(image, "header.max_table_entries", HeaderAt + HeaderMaxTableEntries);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(512UL)] // the header itself
    [InlineData(1024UL)] // inside the header
    [InlineData(2050UL)] // not sector-aligned
    [InlineData(ulong.MaxValue)]
    public async Task Table_offset_inside_the_header_or_unaligned(ulong tableOffset)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.HeaderU64(image, HeaderTableOffset, tableOffset);

        await AssertStreamRejectsAsync(image, "header.table_offset", HeaderAt + HeaderTableOffset);
        AssertFileRejects(image, "header.table_offset", HeaderAt + HeaderTableOffset);
    }

    [Fact]
    public async Task Table_offset_past_the_end()
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.HeaderU64(image, HeaderTableOffset, 1UL << 30);

        await AssertStreamRejectsAsync(image, "header.table_offset", Length);
        AssertFileRejects(image, "header.table_offset", HeaderAt + HeaderTableOffset);
    }

    [Fact]
    public async Task Fixed_disk_type()
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.FooterU32(image, FooterDiskType, (uint)DiskType.Fixed);

        var error = await AssertStreamRejectsAsync(image, "footer.disk_type", FooterDiskType);
        Assert.Contains("fixed", error.Message);
        AssertFileRejects(image, "footer.disk_type", FooterDiskType);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(5u)]
    [InlineData(0x03000000u)] // 3 stored little-endian
    public async Task Unknown_disk_type(uint diskType)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.FooterU32(image, FooterDiskType, diskType);

        var error = await AssertStreamRejectsAsync(image, "footer.disk_type", FooterDiskType);
        Assert.Contains("unknown", error.Message);
        AssertFileRejects(image, "footer.disk_type", FooterDiskType);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1536UL)]
    [InlineData(ulong.MaxValue)] // a fixed disk's value
    public async Task Footer_data_offset_not_512(ulong dataOffset)
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.FooterU64(image, FooterDataOffset, dataOffset);

        await AssertStreamRejectsAsync(image, "footer.data_offset", FooterDataOffset);
        AssertFileRejects(image, "footer.data_offset", FooterDataOffset);
    }

    [Fact]
    public async Task Footer_file_format_version_not_1_0()
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.FooterU32(image, 12, 0x00020000);

        await AssertStreamRejectsAsync(image, "footer.file_format_version", 12);
        AssertFileRejects(image, "footer.file_format_version", 12);
    }

    [Fact]
    public async Task Header_data_offset_not_all_ones()
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.HeaderU64(image, 8, 0xFFFFFFFF);

        await AssertStreamRejectsAsync(image, "header.data_offset", HeaderAt + 8);
        AssertFileRejects(image, "header.data_offset", HeaderAt + 8);
    }

    [Fact]
    public async Task Header_version_not_1_0()
    {
        var (image, _) = await DynamicAsync();
        VhdPatch.HeaderU32(image, 24, 0x00010001);

        await AssertStreamRejectsAsync(image, "header.header_version", HeaderAt + 24);
        AssertFileRejects(image, "header.header_version", HeaderAt + 24);
    }

    [Theory]
    [InlineData(0, 0x01000000u)] // 16 MiB of locator data
    [InlineData(0, 0xFFFFFFFFu)]
    [InlineData(0, 513u)] // more than its one-sector data space
    [InlineData(3, 0x00100000u)] // an unused entry made used
    public async Task Parent_locator_with_absurd_length(int entry, uint length)
    {
        var child = Differencing();
        var at = HeaderLocators + (24 * entry);
        if (entry != 0)
        {
            VhdPatch.WriteU32(child, HeaderAt + at, ParentLocator.W2ku);
            VhdPatch.WriteU32(child, HeaderAt + at + 4, 1);
            VhdPatch.WriteU64(child, HeaderAt + at + 16, 1536);
        }

        VhdPatch.HeaderU32(child, at + 8, length);

        await AssertStreamRejectsAsync(child, $"header.parent_locator[{entry}]", HeaderAt + at);
        AssertFileRejects(child, $"header.parent_locator[{entry}]", HeaderAt + at, "child.vhd");
    }

    [Fact]
    public async Task Parent_locator_with_its_data_inside_the_header()
    {
        var child = Differencing();
        VhdPatch.HeaderU64(child, HeaderLocators + 16, 1024);

        await AssertStreamRejectsAsync(child, "header.parent_locator[0]", HeaderAt + HeaderLocators);
        AssertFileRejects(child, "header.parent_locator[0]", HeaderAt + HeaderLocators, "child.vhd");
    }

    [Fact]
    public async Task Missing_parent_file_of_a_differencing_vhd()
    {
        var child = Differencing();
        File.Delete(dir.File("base.vhd"));

        AssertFileRejects(child, "header.parent_unicode_name", HeaderAt + 64, "child.vhd");

        // The stream reader takes a delta on its own (XAPI imports it over a copy of the base): no parent involved.
        await ReadStreamAsync(new MemoryStream(child));

        // Opened without its parent on purpose, the child reads its unallocated sectors as zero.
        using var alone = VhdFile.Open(dir.File("child.vhd"), new VhdOpenOptions { ResolveParent = false });
        Assert.Null(alone.Parent);
    }

    [Fact]
    public void Parent_unique_id_mismatch()
    {
        var child = Differencing();

        // Another disk under the parent's name.
        File.Delete(dir.File("base.vhd"));
        VhdFile.CreateDynamic(dir.File("base.vhd"), 256 * 1024, new VhdCreateOptions { BlockSize = BlockSize, Durable = false }).Dispose();
        AssertFileRejects(child, "header.parent_unique_id", HeaderAt + 40, "child.vhd");

        // The right parent, but the child's header names another id.
        var restored = Differencing();
        restored[HeaderAt + 40] ^= 0xFF;
        VhdPatch.FixHeaderChecksum(restored);
        AssertFileRejects(restored, "header.parent_unique_id", HeaderAt + 40, "child.vhd");
    }

    /// <summary>The dynamic sample and the virtual disk content it holds.</summary>
    private static async Task<(byte[] Image, byte[] Content)> DynamicAsync()
    {
        var content = new byte[Size];
        var rng = new Random(7);
        using var output = new MemoryStream();
        var writer = new VhdStreamWriter(output, Size, Present, blockSize: BlockSize, uniqueId: Guid.NewGuid());
        await writer.WriteHeadersAsync();
        foreach (var index in Present)
        {
            var data = content.AsMemory(index * BlockSize, BlockSize);
            rng.NextBytes(data.Span);
            await writer.WriteBlockAsync(index, data);
        }

        await writer.CompleteAsync();
        return (output.ToArray(), content);
    }

    /// <summary>Writes base.vhd (dynamic, 256 KiB, 4 KiB blocks) and child.vhd (a differencing child with a few
    /// partial blocks) into the test directory; returns the child's bytes.</summary>
    private byte[] Differencing() => Differencing(out _);

    private byte[] Differencing(out byte[] content)
    {
        var rng = new Random(11);
        var model = new byte[256 * 1024];
        void Write(VhdFile file, int offset, int length)
        {
            var data = RandomBytes(rng, length);
            file.Write(offset, data);
            data.CopyTo(model, offset);
        }

        var options = new VhdCreateOptions { BlockSize = BlockSize, Durable = false };
        foreach (var name in new[] { "child.vhd", "base.vhd" })
        {
            File.Delete(dir.File(name));
        }

        using (var parent = VhdFile.CreateDynamic(dir.File("base.vhd"), 256 * 1024, options))
        {
            Write(parent, 0, 64 * 1024);
            Write(parent, 200 * 1024, 8 * 1024);
            using var child = VhdFile.CreateDifferencing(dir.File("child.vhd"), parent, options);
            Write(child, 4096 + 1024, 1536);
            Write(child, 250 * 1024, 512);
        }

        content = model;

        return File.ReadAllBytes(dir.File("child.vhd"));
    }

    private static byte[] RandomBytes(Random rng, int length)
    {
        var bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }

    private string Save(byte[] image, string name = "disk.vhd")
    {
        var path = dir.File(name);
        File.WriteAllBytes(path, image);
        return path;
    }

    /// <summary>Reads every block and the trailing footer; returns the content, as XAPI's import applies it over zeros.</summary>
    private static async Task<byte[]> ReadStreamAsync(Stream stream)
    {
        var reader = await VhdStreamReader.OpenAsync(stream);
        var content = new byte[Math.Min(reader.VirtualSize, 64L * 1024 * 1024)];
        await foreach (var block in reader.ReadBlocksAsync())
        {
            var start = (long)block.Index * reader.Header.BlockSize;
            for (var s = 0; s < reader.Header.SectorsPerBlock && start + (s * 512L) < content.Length; s++)
            {
                if (SectorBitmap.IsSet(block.Bitmap.Span, s))
                {
                    block.Data.Span.Slice(s * 512, 512).CopyTo(content.AsSpan((int)(start + (s * 512L))));
                }
            }
        }

        Assert.NotNull(reader.TrailingFooter);
        return content;
    }

    /// <summary>Opens the file and reads its disk (the first and last MiB of a disk over 64 MiB).</summary>
    private static byte[] ReadFile(string path)
    {
        using var file = VhdFile.Open(path);
        const long limit = 64L * 1024 * 1024;
        if (file.VirtualSize <= limit)
        {
            var all = new byte[file.VirtualSize];
            file.Read(0, all);
            return all;
        }

        var ends = new byte[2 * 1024 * 1024];
        file.Read(0, ends.AsSpan(0, ends.Length / 2));
        file.Read(file.VirtualSize - (ends.Length / 2), ends.AsSpan(ends.Length / 2));
        return ends;
    }

    private static async Task<VhdFormatException> AssertStreamRejectsAsync(byte[] image, string field, long offset)
    {
        VhdFormatException? first = null;
        foreach (var seekable in new[] { true, false })
        {
            Stream stream = seekable ? new MemoryStream(image, writable: false) : new NonSeekableStream(new MemoryStream(image, writable: false));
            var error = await Assert.ThrowsAsync<VhdFormatException>(() => ReadStreamAsync(stream));
            Assert.True((field, offset) == (error.Field, error.Offset),
                $"{(seekable ? "seekable" : "non-seekable")} stream: expected {field} at {offset}, got: {error.Message}");
            first ??= error;
        }

        return first!;
    }

    private void AssertFileRejects(byte[] image, string field, long offset, string name = "disk.vhd")
    {
        var path = Save(image, name);
        var error = Assert.Throws<VhdFormatException>(() => ReadFile(path));
        Assert.True((field, offset) == (error.Field, error.Offset), $"file: expected {field} at {offset}, got: {error.Message}");
    }
}
