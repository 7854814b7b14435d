using System.Diagnostics;
using System.Security.Cryptography;
using XcrCluster.Vhd;

namespace XcrCluster.Cli;

/// <summary>
/// The end-to-end path that exists today, at the VHD level: a 256 MiB source disk is replicated in full as an
/// XAPI-layout VHD stream, a snapshot is taken, the "guest" writes a few blocks, and only the delta is sent.
/// The replica's content is checked against the source after each run. (The cluster-backed demo replaces this.)
/// </summary>
public static class VhdDemo
{
    private const long DiskSize = 256L * 1024 * 1024;
    private const int BlockSize = VhdConstants.DefaultBlockSize;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var keep = args.Contains("--keep");
        var dir = Path.Combine(Path.GetTempPath(), "xcr-demo-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            using var source = VhdFile.CreateDynamic(Path.Combine(dir, "source.vhd"), DiskSize, new VhdCreateOptions { Durable = false });
            GuestWrite(source, blocks: 48, seed: 1);
            using var replica = VhdFile.CreateDynamic(Path.Combine(dir, "replica.vhd"), DiskSize, new VhdCreateOptions { Durable = false });

            await ReplicateAsync("full", source, source.AllocatedBlocks().ToList(), replica, Path.Combine(dir, "full.vhd"), output);

            // The snapshot freezes the source; the guest's new writes land in a differencing child.
            using var leaf = VhdFile.CreateDifferencing(Path.Combine(dir, "leaf.vhd"), source, new VhdCreateOptions { Durable = false });
            GuestWrite(leaf, blocks: 5, seed: 2);
            await ReplicateAsync("delta", leaf, leaf.AllocatedBlocks().ToList(), replica, Path.Combine(dir, "delta.vhd"), output);

            output.WriteLine(keep ? $"files kept in {dir}" : "done");
            return 0;
        }
        finally
        {
            if (!keep)
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static void GuestWrite(VhdFile disk, int blocks, int seed)
    {
        var rng = new Random(seed);
        var data = new byte[BlockSize];
        for (var i = 0; i < blocks; i++)
        {
            rng.NextBytes(data);
            disk.Write((long)rng.Next(disk.BlockCount) * BlockSize, data);
        }
    }

    private static async Task ReplicateAsync(string kind, VhdFile source, List<int> blocks, VhdFile replica, string wirePath, TextWriter output)
    {
        var watch = Stopwatch.StartNew();
        var bitmap = new byte[SectorBitmap.SizeFor(BlockSize)];
        var data = new byte[BlockSize];
        await using (var wire = File.Create(wirePath))
        {
            var writer = new VhdStreamWriter(wire, source.VirtualSize, blocks);
            await writer.WriteHeadersAsync();
            foreach (var index in blocks)
            {
                source.Read((long)index * BlockSize, data);
                await writer.WriteBlockAsync(index, data);
            }

            await writer.CompleteAsync();
        }

        await using (var wire = File.OpenRead(wirePath))
        {
            var reader = await VhdStreamReader.OpenAsync(wire);
            await foreach (var block in reader.ReadBlocksAsync())
            {
                replica.WriteBlock(block.Index, block.Bitmap.Span, block.Data.Span);
            }
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var bytes = new FileInfo(wirePath).Length;
        var same = Hash(source).SequenceEqual(Hash(replica));
        output.WriteLine($"{kind,-5} run: {blocks.Count} blocks, {bytes / 1e6:F1} MB moved in {seconds:F2} s ({bytes / 1e6 / seconds:F0} MB/s), replica {(same ? "matches" : "DIFFERS FROM")} source");
        if (!same)
        {
            throw new InvalidOperationException("the replica does not match its source");
        }
    }

    private static byte[] Hash(VhdFile disk)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BlockSize];
        for (long offset = 0; offset < disk.VirtualSize; offset += BlockSize)
        {
            var n = (int)Math.Min(BlockSize, disk.VirtualSize - offset);
            disk.Read(offset, buffer.AsSpan(0, n));
            sha.AppendData(buffer, 0, n);
        }

        return sha.GetHashAndReset();
    }
}
