using XcrCluster.Vhd;

namespace XcrCluster.Bench;

/// <summary>`xcr-bench vhd`: the VHD stream writer and reader and the random-access file API on a disk with
/// 60 % of its 2 MiB blocks holding random data, against a plain Stream.CopyTo of the same VHD bytes — in
/// in memory (into or out of a preallocated MemoryStream) and on disk (reads and writes each against a plain
/// copy; the page cache is warm after the first run, so disk reads measure the CPU side).</summary>
public static class VhdBench
{
    private const int BlockSize = VhdConstants.DefaultBlockSize;

    public static async Task RunAsync(BenchArgs args)
    {
        Directory.CreateDirectory(args.Dir);
        try
        {
            var disk = new SampleDisk(args.SizeBytes);
            var measure = new Measure(args.Runs);
            var vhdPath = Path.Combine(args.Dir, "disk.vhd");
            var copyPath = Path.Combine(args.Dir, "copy.vhd");
            var filePath = Path.Combine(args.Dir, "file.vhd");
            var length = VhdStreamWriter.ComputeLength(disk.Size, disk.Present.Count);
            var image = new MemoryStream(checked((int)length));
            await disk.WriteVhdAsync(image);
            await disk.WriteVhdAsync(File.Create(vhdPath), dispose: true);
            Console.Error.WriteLine($"xcr-bench vhd: {disk.Size >> 20} MiB disk, {disk.Present.Count} of {disk.BlockCount} blocks present, VHD stream {length} bytes");

            // Every case moves the bytes once: memory cases into a preallocated MemoryStream or out of one;
            // disk reads against a plain read of the file, disk writes against a plain write of the same bytes.
            var target = new MemoryStream(checked((int)length));
            await measure.AddAsync("plain Stream.CopyTo", "memory", baseline: true, async () =>
            {
                image.Position = target.Position = 0;
                await image.CopyToAsync(target);
                return target.Position;
            });
            await measure.AddAsync("VhdStreamWriter", "memory", baseline: false, async () =>
            {
                target.Position = 0;
                await disk.WriteVhdAsync(target);
                return target.Position;
            });
            await measure.AddAsync("VhdStreamReader", "memory", baseline: false, async () =>
            {
                image.Position = 0;
                return await ReadVhdAsync(image);
            });
            await measure.AddAsync("plain Stream.CopyTo file to null", "disk read", baseline: true, async () =>
            {
                await using var from = File.OpenRead(vhdPath);
                var sink = new CountingSink();
                await from.CopyToAsync(sink);
                return sink.Count;
            });
            await measure.AddAsync("VhdStreamReader", "disk read", baseline: false, async () =>
            {
                await using var from = File.OpenRead(vhdPath);
                return await ReadVhdAsync(from);
            });
            await measure.AddAsync("plain Stream.CopyTo memory to file", "disk write", baseline: true, async () =>
            {
                image.Position = 0;
                File.Delete(copyPath);
                await using var to = File.Create(copyPath);
                await image.CopyToAsync(to);
                return to.Length;
            });
            await measure.AddAsync("VhdStreamWriter", "disk write", baseline: false, async () =>
            {
                File.Delete(copyPath);
                await using var to = File.Create(copyPath);
                await disk.WriteVhdAsync(to);
                return to.Length;
            });
            await measure.AddAsync("VhdFile write (random access)", "disk write", baseline: false, () =>
            {
                File.Delete(filePath);
                using var file = VhdFile.CreateDynamic(filePath, disk.Size, new VhdCreateOptions { Durable = false });
                foreach (var index in disk.Present)
                {
                    file.Write((long)index * BlockSize, disk.Block(index).Span);
                }

                return Task.FromResult((long)disk.Present.Count * BlockSize);
            });
            await measure.AddAsync("VhdFile read (random access)", "disk read", baseline: false, () =>
            {
                using var file = VhdFile.Open(filePath);
                var buffer = new byte[BlockSize];
                for (long offset = 0; offset < file.VirtualSize; offset += BlockSize)
                {
                    file.Read(offset, buffer.AsSpan(0, (int)Math.Min(BlockSize, file.VirtualSize - offset)));
                }

                return Task.FromResult(file.VirtualSize);
            });
            CaseNotes.Vhd.Print(measure.Print);
        }
        finally
        {
            Directory.Delete(args.Dir, recursive: true);
        }
    }

    private static async Task<long> ReadVhdAsync(Stream input)
    {
        var reader = await VhdStreamReader.OpenAsync(input);
        while (await reader.ReadBlockAsync() is not null)
        {
        }

        return reader.Position;
    }
}

/// <summary>A disk whose present blocks (60 %, seeded) cycle through 16 random 2 MiB buffers: realistic,
/// incompressible content at no generation cost inside the timed runs.</summary>
public sealed class SampleDisk
{
    private readonly byte[][] pool;

    public SampleDisk(long size)
    {
        Size = size;
        BlockCount = VhdHeader.BlockCountFor(size, VhdConstants.DefaultBlockSize);
        var rng = new Random(42);
        pool = Enumerable.Range(0, 16).Select(_ =>
        {
            var b = new byte[VhdConstants.DefaultBlockSize];
            rng.NextBytes(b);
            return b;
        }).ToArray();
        Present = Enumerable.Range(0, BlockCount).Where(_ => rng.NextDouble() < 0.6).ToList();
    }

    public long Size { get; }

    public int BlockCount { get; }

    public List<int> Present { get; }

    public ReadOnlyMemory<byte> Block(int index)
    {
        var length = (int)Math.Min(VhdConstants.DefaultBlockSize, Size - ((long)index * VhdConstants.DefaultBlockSize));
        return pool[index % pool.Length].AsMemory(0, length);
    }

    public async Task WriteVhdAsync(Stream output, bool dispose = false)
    {
        var writer = new VhdStreamWriter(output, Size, Present);
        await writer.WriteHeadersAsync();
        foreach (var index in Present)
        {
            await writer.WriteBlockAsync(index, Block(index));
        }

        await writer.CompleteAsync();
        if (dispose)
        {
            await output.DisposeAsync();
        }
    }
}
