namespace XcrCluster.Vhd.Tests;

/// <summary>Our reader against VHDs qemu-img made, and qemu-img against VHDs we made.</summary>
public sealed class QemuInteropTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    // Sizes: CHS-exact and not, a partial last block, data in the very last sector.
    public static TheoryData<long, int> Sizes => new()
    {
        { 8L * 1024 * 1024, 1 },
        { (10L * 1024 * 1024) + (3 * 512), 2 },
        { (33L * 1024 * 1024) + (7 * 4096), 3 },
        { 64L * 1024 * 1024, 4 },
        { 100_000_256, 5 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Qemu_converted_vhd_reads_back_identical_through_stream_and_file(long size, int seed)
    {
        var raw = RawImage.Random(size, seed);
        var rawPath = RawImage.Save(dir, "in.raw", raw);
        var vhd = dir.File("qemu.vhd");
        QemuImg.Run("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", rawPath, vhd);

        await using (var stream = File.OpenRead(vhd))
        {
            Assert.Equal(raw, await RawImage.ReadThroughStreamAsync(stream));
        }

        // A non-seekable stream takes the skip-by-reading path, as an HTTP body would.
        await using (var stream = new NonSeekableStream(File.OpenRead(vhd)))
        {
            Assert.Equal(raw, await RawImage.ReadThroughStreamAsync(stream));
        }

        Assert.Equal(raw, RawImage.ReadThroughFile(vhd));
    }

    [Fact]
    public async Task Qemu_created_empty_vhd_reads_as_zeros()
    {
        const long size = (5L * 1024 * 1024) + 512;
        var vhd = dir.File("empty.vhd");
        QemuImg.Run("create", "-f", "vpc", "-o", "subformat=dynamic,force_size=on", vhd, size.ToString());
        await using (var stream = File.OpenRead(vhd))
        {
            var reader = await VhdStreamReader.OpenAsync(stream);
            Assert.Equal(size, reader.VirtualSize);
            Assert.Empty(reader.PresentBlocks);
            Assert.Null(await reader.ReadBlockAsync());
            Assert.NotNull(reader.TrailingFooter);
        }

        Assert.Equal(new byte[size], RawImage.ReadThroughFile(vhd));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Stream_writer_output_is_identical_to_the_raw_image_under_qemu(long size, int seed)
    {
        var raw = RawImage.Random(size, seed);
        var rawPath = RawImage.Save(dir, "in.raw", raw);
        var vhd = dir.File("ours.vhd");
        var blockSize = VhdConstants.DefaultBlockSize;
        var present = Enumerable.Range(0, VhdHeader.BlockCountFor(size, blockSize))
            .Where(i => raw.AsSpan(i * blockSize, (int)Math.Min(blockSize, size - ((long)i * blockSize))).ContainsAnyExcept((byte)0))
            .ToList();
        await using (var output = File.Create(vhd))
        {
            var writer = new VhdStreamWriter(output, size, present);
            await writer.WriteHeadersAsync();
            foreach (var index in present)
            {
                await writer.WriteBlockAsync(index, raw.AsMemory(index * blockSize, (int)Math.Min(blockSize, size - ((long)index * blockSize))));
            }

            await writer.CompleteAsync();
            Assert.Equal(writer.Length, writer.BytesWritten);
        }

        Assert.Equal(VhdStreamWriter.ComputeLength(size, present.Count), new FileInfo(vhd).Length);
        var info = QemuImg.Run("info", "-f", "vpc", vhd);
        Assert.Contains("file format: vpc", info);
        QemuImg.AssertIdenticalToRaw(vhd, rawPath);
        Assert.Equal(raw, RawImage.ReadThroughFile(vhd));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Random_access_file_is_identical_to_the_raw_image_under_qemu(long size, int seed)
    {
        var raw = RawImage.Random(size, seed);
        var rawPath = RawImage.Save(dir, "in.raw", raw);
        var vhd = dir.File("file.vhd");
        using (var file = VhdFile.CreateDynamic(vhd, size))
        {
            // Written in scattered chunks, back to front, so blocks land out of index order.
            const int chunk = 256 * 1024;
            for (var off = ((size - 1) / chunk) * chunk; off >= 0; off -= chunk)
            {
                var slice = raw.AsSpan((int)off, (int)Math.Min(chunk, size - off));
                if (slice.ContainsAnyExcept((byte)0))
                {
                    file.Write(off, slice);
                }
            }

            Assert.Equal("caml", file.Footer.CreatorApplication);
        }

        Assert.Contains("file format: vpc", QemuImg.Run("info", "-f", "vpc", vhd));
        QemuImg.AssertIdenticalToRaw(vhd, rawPath);
        Assert.Equal(raw, RawImage.ReadThroughFile(vhd));
    }

    [Fact]
    public async Task Vhd_written_by_qemu_converts_back_to_the_same_raw_through_our_stream_writer()
    {
        // Round trip: qemu VHD -> our stream reader -> our stream writer -> qemu compare with the original raw.
        const long size = 20L * 1024 * 1024;
        var raw = RawImage.Random(size, 42);
        var rawPath = RawImage.Save(dir, "in.raw", raw);
        var qemuVhd = dir.File("qemu.vhd");
        QemuImg.Run("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", rawPath, qemuVhd);
        var ours = dir.File("ours.vhd");
        await using (var input = File.OpenRead(qemuVhd))
        await using (var output = File.Create(ours))
        {
            var reader = await VhdStreamReader.OpenAsync(input);
            var ascending = reader.PresentBlocks.Order().ToList();
            Assert.Equal(ascending, reader.PresentBlocks);
            var writer = new VhdStreamWriter(output, reader.VirtualSize, ascending);
            await writer.WriteHeadersAsync();
            await foreach (var block in reader.ReadBlocksAsync())
            {
                await writer.WriteBlockAsync(block.Index, block.Data, block.Bitmap);
            }

            await writer.CompleteAsync();
        }

        QemuImg.AssertIdenticalToRaw(ours, rawPath);
    }
}

/// <summary>Hides seeking, as an HTTP response body does.</summary>
internal sealed class NonSeekableStream(Stream inner) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
