using System.Buffers.Binary;
using System.Collections.Immutable;

namespace XcrCluster.Vhd.Tests;

/// <summary>The on-disk structures byte by byte, against the spec (docs/xapi.md §9).</summary>
public sealed class StructureTests
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;
    private const long GiB = 1024 * MiB;
    private static readonly Guid Ordered = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
    private static readonly byte[] OrderedBytes = Convert.FromHexString("00112233445566778899AABBCCDDEEFF");

    private static VhdFooter UnusualFooter() => new()
    {
        Features = 3,
        FileFormatVersion = VhdConstants.FormatVersion,
        DataOffset = 512,
        Timestamp = 0x12345678,
        CreatorApplication = "qem2",
        CreatorVersion = 0x00050003,
        CreatorHostOs = 0x5769326B,
        OriginalSize = 3 * GiB,
        CurrentSize = (5 * GiB) + 512,
        Geometry = new DiskGeometry(0x1234, 16, 63),
        DiskType = DiskType.Differencing,
        UniqueId = Ordered,
        SavedState = 1,
        Hidden = true,
    };

    private static VhdHeader UnusualHeader() => new()
    {
        TableOffset = 3072,
        MaxTableEntries = 1300,
        BlockSize = 4096,
        ParentUniqueId = Ordered,
        ParentTimestamp = 0x0A0B0C0D,
        ParentUnicodeName = "base disk \u00fc\u4e2d.vhd",
        ParentLocators = ImmutableArray.Create(
            new ParentLocator(ParentLocator.MacX, 1, 30, 1536),
            default,
            new ParentLocator(ParentLocator.W2ku, 1024, 600, 8192),
            default, default, default, default,
            new ParentLocator(ParentLocator.W2ru, 2, 1000, 1 * MiB)),
    };

    [Fact]
    public void Footer_round_trips_through_its_bytes()
    {
        var footer = UnusualFooter();
        var bytes = footer.ToBytes();

        Assert.Equal(VhdConstants.FooterSize, bytes.Length);
        Assert.Equal("conectix"u8.ToArray(), bytes[..8]);
        Assert.Equal(footer, VhdFooter.Parse(bytes, 0));

        var created = VhdFooter.Create(DiskType.Dynamic, 10 * GiB, Guid.NewGuid());
        Assert.Equal(created, VhdFooter.Parse(created.ToBytes(), 4096));
    }

    [Fact]
    public void Header_round_trips_through_its_bytes()
    {
        var header = UnusualHeader();
        var footer = VhdFooter.Create(DiskType.Differencing, 1300 * 4096, Guid.NewGuid());
        var bytes = header.ToBytes();

        Assert.Equal(VhdConstants.HeaderSize, bytes.Length);
        Assert.Equal("cxsparse"u8.ToArray(), bytes[..8]);
        var parsed = VhdHeader.Parse(bytes, VhdConstants.HeaderOffset, footer);
        Assert.Equal(header, parsed);
        Assert.Equal(header.ParentLocators.ToArray(), parsed.ParentLocators.ToArray());
        Assert.Equal("base disk \u00fc\u4e2d.vhd", parsed.ParentUnicodeName);

        // The name is UTF-16 big-endian: 'b' is 00 62.
        Assert.Equal(new byte[] { 0x00, 0x62 }, bytes[64..66]);

        // A header differing in one locator is not equal.
        var other = header with { ParentLocators = header.ParentLocators.SetItem(7, new ParentLocator(ParentLocator.W2ru, 2, 999, 1 * MiB)) };
        Assert.NotEqual(header, other);
    }

    [Fact]
    public void Checksum_is_the_ones_complement_of_the_byte_sum_with_the_checksum_field_as_zero()
    {
        // Only the cookie: 'c'+'o'+'n'+'e'+'c'+'t'+'i'+'x' = 99+111+110+101+99+116+105+120 = 861; ~861 = 0xFFFFFCA2.
        var structure = new byte[VhdConstants.FooterSize];
        "conectix"u8.CopyTo(structure);
        Assert.Equal(0xFFFFFCA2u, VhdChecksum.Compute(structure, 64));

        // Whatever the checksum field holds does not count.
        structure[64] = 0xAB;
        structure[67] = 0xCD;
        Assert.Equal(0xFFFFFCA2u, VhdChecksum.Compute(structure, 64));
    }

    [Fact]
    public void Footer_checksum_matches_a_hand_computation()
    {
        // Bytes that are not zero: cookie 861; features 2; version 00 01 00 00 -> 1; data offset 512 (02 00) -> 2;
        // creator "caml" 99+97+109+108 = 413; creator version 1; original and current size 1 GiB (40 00 00 00) -> 64 + 64;
        // geometry of 1 GiB (2080 = 0x0820, 16, 63) -> 8+32+16+63; disk type 3. Sum 1530 = 0x5FA; ~0x5FA = 0xFFFFFA05.
        var bytes = VhdFooter.Create(DiskType.Dynamic, 1 * GiB, Guid.Empty).ToBytes();

        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFA, 0x05 }, bytes[64..68]);
        Assert.Equal(VhdPatch.Checksum(bytes, 64), BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(64)));
    }

    [Fact]
    public void Header_checksum_matches_a_hand_computation()
    {
        // Cookie "cxsparse" 99+120+115+112+97+114+115+101 = 873; data offset eight 0xFF = 2040; table offset 2048 (08 00) -> 8;
        // version 1; 512 entries (02 00) -> 2; block size 4096 (10 00) -> 16. Sum 2940 = 0xB7C; ~0xB7C = 0xFFFFF483.
        var bytes = new VhdHeader { TableOffset = 2048, MaxTableEntries = 512, BlockSize = 4096 }.ToBytes();

        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xF4, 0x83 }, bytes[36..40]);
        Assert.Equal(VhdPatch.Checksum(bytes, 36), BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(36)));

        var unusual = UnusualHeader().ToBytes();
        Assert.Equal(VhdPatch.Checksum(unusual, 36), BinaryPrimitives.ReadUInt32BigEndian(unusual.AsSpan(36)));
    }

    [Fact]
    public void Unique_ids_are_stored_in_RFC_4122_big_endian_byte_order()
    {
        var footer = VhdFooter.Create(DiskType.Dynamic, 1 * MiB, Ordered).ToBytes();
        Assert.Equal(OrderedBytes, footer[68..84]);

        var header = new VhdHeader { TableOffset = 2048, MaxTableEntries = 1, BlockSize = 2 * (int)MiB, ParentUniqueId = Ordered }.ToBytes();
        Assert.Equal(OrderedBytes, header[40..56]);

        // And read back the same way (a little-endian Guid layout would swap the first three groups).
        Assert.Equal(Ordered, VhdFooter.Parse(footer, 0).UniqueId);
        Assert.Equal(Ordered, VhdHeader.Parse(header, 512, VhdFooter.Create(DiskType.Differencing, 1 * MiB, Guid.Empty)).ParentUniqueId);
    }

    // Expected values worked by hand from the B1.7 algorithm (vhd-tool's ">" at the 255-sectors threshold).
    public static TheoryData<long, ushort, byte, byte> Geometries => new()
    {
        // ts 40960; spt 17: cth 2409, heads max(3432/1024, 4) = 4; 2409 < 4096 -> cyl 2409/4 = 602.
        { 20 * MiB, 602, 4, 17 },

        // ts 409600; spt 17: cth 24094, heads 24 > 16 -> spt 31, cth 13212 < 16384 -> cyl 825.
        { 200 * MiB, 825, 16, 31 },

        // ts 2097152; spt 17 heads 121 -> spt 31 cth 67650 >= 16384 -> spt 63 cth 33288 -> cyl 2080 (1 GiB - 256 KiB under CHS).
        { 1 * GiB, 2080, 16, 63 },

        // ts 20971520 -> spt 63 cth 332881 -> cyl 20805 (10 GiB - 40 KiB under CHS).
        { 10 * GiB, 20805, 16, 63 },

        // ts 266338304 > 65535*16*63 -> spt 255 heads 16 cth 1044463 -> cyl 65278.
        { 127 * GiB, 65278, 16, 255 },

        // ts capped at 65535*16*255 -> cyl 65535.
        { 2040 * GiB, 65535, 16, 255 },

        // ts exactly 65535*16*63: not "greater", so spt 63 and cth 1048560 -> cyl 65535 (">=" would give 16191/16/255).
        { 65535L * 16 * 63 * 512, 65535, 16, 63 },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Geometry_from_size_follows_the_spec_algorithm(long size, ushort cylinders, byte heads, byte sectorsPerTrack)
    {
        var geometry = DiskGeometry.FromSize(size);

        Assert.Equal(new DiskGeometry(cylinders, heads, sectorsPerTrack), geometry);
        Assert.True(geometry.CapacityBytes <= size);
    }

    [Fact]
    public void Sector_bitmap_is_most_significant_bit_first()
    {
        var bitmap = new byte[2];
        SectorBitmap.Set(bitmap, 0);
        Assert.Equal(new byte[] { 0x80, 0x00 }, bitmap);
        SectorBitmap.Set(bitmap, 7);
        Assert.Equal(new byte[] { 0x81, 0x00 }, bitmap);
        SectorBitmap.Set(bitmap, 9);
        Assert.Equal(new byte[] { 0x81, 0x40 }, bitmap);
        SectorBitmap.SetRange(bitmap, 12, 4);
        Assert.Equal(new byte[] { 0x81, 0x4F }, bitmap);

        ReadOnlySpan<byte> pattern = [0x20, 0x01];
        Assert.False(SectorBitmap.IsSet(pattern, 0));
        Assert.True(SectorBitmap.IsSet(pattern, 2));
        Assert.False(SectorBitmap.IsSet(pattern, 5));
        Assert.True(SectorBitmap.IsSet(pattern, 15));
        Assert.Equal(2, SectorBitmap.RunLength(pattern, 0, 16));
        Assert.Equal(12, SectorBitmap.RunLength(pattern, 3, 16));
        Assert.Equal(5, SectorBitmap.RunLength(pattern, 3, 8));

        Assert.True(SectorBitmap.AllSet([0xFF, 0xE0], 11));
        Assert.False(SectorBitmap.AllSet([0xFF, 0xC0], 11));
    }

    [Fact]
    public void Bitmap_size_is_one_bit_per_sector_rounded_up_to_whole_sectors()
    {
        Assert.Equal(512, SectorBitmap.SizeFor(512));
        Assert.Equal(512, SectorBitmap.SizeFor(4096));
        Assert.Equal(512, SectorBitmap.SizeFor(2 * (int)MiB));
        Assert.Equal(1024, SectorBitmap.SizeFor(4 * (int)MiB));
        Assert.Equal(8192, SectorBitmap.SizeFor(VhdConstants.MaxBlockSize));
    }

    [Fact]
    public void Bitmap_written_by_a_differencing_file_sets_the_most_significant_bit_for_the_first_sector()
    {
        using var dir = new TempDir();
        using var parent = VhdFile.CreateDynamic(dir.File("base.vhd"), 64 * KiB, new VhdCreateOptions { BlockSize = 8192, Durable = false });
        using (var child = VhdFile.CreateDifferencing(dir.File("child.vhd"), parent, new VhdCreateOptions { BlockSize = 8192, Durable = false }))
        {
            // Block 1, sectors 0 and 9 (of 16).
            child.Write(8192, new byte[512]);
            child.Write(8192 + (9 * 512), new byte[512]);
        }

        var bytes = File.ReadAllBytes(dir.File("child.vhd"));
        var blockOffset = (long)VhdPatch.ReadU32(bytes, 2048 + 4) * 512;
        Assert.Equal(new byte[] { 0x80, 0x40, 0x00 }, bytes[(int)blockOffset..(int)(blockOffset + 3)]);
    }

    [Fact]
    public void Bat_is_big_endian_sector_numbers_padded_with_0xFF()
    {
        Assert.Equal(512, BlockAllocationTable.SizeInBytes(0));
        Assert.Equal(512, BlockAllocationTable.SizeInBytes(128));
        Assert.Equal(1024, BlockAllocationTable.SizeInBytes(129));

        var bat = BlockAllocationTable.CreateEmpty(3);
        bat[1] = 0x01020304;
        var bytes = new byte[512];
        bat.WriteTo(bytes);

        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02, 0x03, 0x04, 0xFF, 0xFF, 0xFF, 0xFF }, bytes[..12]);
        Assert.All(bytes[12..], b => Assert.Equal(0xFF, b));
        Assert.Equal(0x01020304L * 512, bat.BlockOffset(1));
        Assert.Equal(new[] { 1 }, bat.AllocatedIndices());
    }

    [Fact]
    public async Task Stream_writer_pads_the_bat_with_0xFF_and_lays_out_blocks_after_it()
    {
        // 130 entries: 520 bytes of BAT padded to 1024.
        const int blockSize = 4096;
        const long size = 130 * blockSize;
        using var output = new MemoryStream();
        var writer = new VhdStreamWriter(output, size, [0, 129], blockSize: blockSize);
        await writer.WriteHeadersAsync();
        await writer.WriteBlockAsync(0, new byte[blockSize]);
        await writer.WriteBlockAsync(129, new byte[blockSize]);
        await writer.CompleteAsync();
        var bytes = output.ToArray();

        Assert.Equal(writer.Length, bytes.Length);
        Assert.All(bytes[(2048 + 520)..(2048 + 1024)], b => Assert.Equal(0xFF, b));
        Assert.Equal((2048u + 1024) / 512, VhdPatch.ReadU32(bytes, 2048));
        Assert.Equal((2048u + 1024 + 4608) / 512, VhdPatch.ReadU32(bytes, 2048 + (4 * 129)));
        Assert.Equal(VhdConstants.UnallocatedBlock, VhdPatch.ReadU32(bytes, 2048 + 4));
        Assert.Equal(bytes[..512], bytes[^512..]);
    }

    [Theory]
    [InlineData(10 * GiB, 0)]
    [InlineData(10 * GiB, 3)]
    [InlineData((1 * MiB) + 512, 1)]
    [InlineData(2040 * GiB, 7)]
    public void Compute_length_matches_the_spec_formula_for_2_MiB_blocks(long size, int blocks)
    {
        var entries = (size + (2 * MiB) - 1) / (2 * MiB);
        var expected = 2048 + RoundUp512(4 * entries) + (blocks * (512 + (2 * MiB))) + 512;

        Assert.Equal(expected, VhdStreamWriter.ComputeLength(size, blocks));
    }

    [Fact]
    public void Compute_length_matches_known_values()
    {
        // 10 GiB: 5120 entries, a 20480-byte BAT.
        Assert.Equal(23_040, VhdStreamWriter.ComputeLength(10 * GiB, 0));
        Assert.Equal(6_316_032, VhdStreamWriter.ComputeLength(10 * GiB, 3));

        // One entry still takes a whole sector of BAT.
        Assert.Equal(2_100_736, VhdStreamWriter.ComputeLength((1 * MiB) + 512, 1));

        // 4 KiB blocks carry a 512-byte bitmap each: 64 entries -> 512 B of BAT, 5 blocks of 4608.
        Assert.Equal(26_112, VhdStreamWriter.ComputeLength(256 * KiB, 5, 4096));
    }

    [Theory]
    [InlineData(256 * KiB, 4096)]
    [InlineData((1 * MiB) - 1536, 16384)]
    [InlineData((3 * MiB) + 512, 2 * 1024 * 1024)]
    public async Task Stream_writer_writes_exactly_the_computed_length(long size, int blockSize)
    {
        var count = VhdHeader.BlockCountFor(size, blockSize);
        var present = Enumerable.Range(0, count).Where(i => i % 3 != 1).ToList();
        using var output = new MemoryStream();
        var writer = new VhdStreamWriter(output, size, present, blockSize: blockSize);
        await writer.WriteHeadersAsync();
        foreach (var index in present)
        {
            await writer.WriteBlockAsync(index, new byte[Math.Min(blockSize, size - ((long)index * blockSize))]);
        }

        await writer.CompleteAsync();

        var bitmap = RoundUp512(blockSize / 512 / 8);
        Assert.Equal(2048 + RoundUp512(4L * count) + (present.Count * (bitmap + blockSize)) + 512, output.Length);
        Assert.Equal(VhdStreamWriter.ComputeLength(size, present.Count, blockSize), output.Length);
        Assert.Equal(writer.Length, writer.BytesWritten);
    }

    [Fact]
    public async Task Stream_writer_refuses_blocks_out_of_order()
    {
        var block = new byte[4096];
        var writer = new VhdStreamWriter(Stream.Null, 64 * KiB, [2, 5, 9], blockSize: 4096);

        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteBlockAsync(2, block));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
        await writer.WriteHeadersAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteHeadersAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteBlockAsync(5, block));
        await writer.WriteBlockAsync(2, block);
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteBlockAsync(2, block));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteBlockAsync(9, block));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
        await writer.WriteBlockAsync(5, block);
        await writer.WriteBlockAsync(9, block);
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteBlockAsync(10, block));
        await writer.CompleteAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
        Assert.Equal(writer.Length, writer.BytesWritten);
    }

    [Theory]
    [InlineData(new[] { 3, 1 })]
    [InlineData(new[] { 0, 2, 2 })]
    [InlineData(new[] { -1, 0 })]
    [InlineData(new[] { 0, 16 })]
    public void Stream_writer_refuses_block_lists_that_are_not_strictly_ascending_indices_of_the_disk(int[] present)
    {
        var error = Assert.Throws<ArgumentException>(() => new VhdStreamWriter(Stream.Null, 64 * KiB, present, blockSize: 4096));
        Assert.Equal("presentBlocks", error.ParamName);
    }

    private static long RoundUp512(long bytes) => (bytes + 511) / 512 * 512;

    [Fact]
    public void Writers_refuse_a_disk_whose_bat_would_exceed_the_cap_instead_of_wrapping()
    {
        const long size = VhdConstants.MaxDiskSize;
        Assert.Throws<ArgumentOutOfRangeException>(() => new VhdStreamWriter(Stream.Null, size, [], blockSize: 512));
        Assert.Throws<ArgumentOutOfRangeException>(() => VhdStreamWriter.ComputeLength(size, 0, 512));
        var path = Path.Combine(Path.GetTempPath(), "xcr-cap-" + Guid.NewGuid().ToString("N") + ".vhd");
        Assert.Throws<ArgumentOutOfRangeException>(() => VhdFile.CreateDynamic(path, size, new VhdCreateOptions { BlockSize = 512 }));
        Assert.False(File.Exists(path));
    }
}
