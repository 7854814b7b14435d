namespace XcrCluster.Vhd.Tests;

/// <summary>
/// Property test with fixed seeds: a dynamic base and two differencing children, built the way a real chain grows
/// (write the base, snapshot it, write only the new leaf, ...), must read at every step exactly as a flat in-memory
/// model of each level, through the live handles and through the chain reopened from disk by file name.
/// </summary>
public sealed class DifferencingChainTests : IDisposable
{
    private const int Sector = VhdConstants.SectorSize;
    private const int StepsPerLevel = 24;
    private static readonly string[] Names = ["base.vhd", "child1.vhd", "child2.vhd"];

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    public static TheoryData<int, long, int> Chains => new()
    {
        // Block size, virtual size, seed.
        { 512, 48 * 1024, 1 },
        { 4096, 256 * 1024, 2 },
        { 4096, (300 * 1024) + (5 * Sector), 3 }, // a partial last block
        { 16384, (512 * 1024) - Sector, 4 }, // a last block one sector short
        { 65536, (1024 * 1024) + (7 * Sector), 5 }, // a last block of 7 sectors
        { 65536, (1024 * 1024) + (7 * Sector), 6 },
        { 2 * 1024 * 1024, (3 * 1024 * 1024) + Sector, 7 }, // the default block size, last block of one sector
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void Three_level_chain_reads_as_the_model_of_each_level(int blockSize, long size, int seed)
    {
        var rng = new Random(seed);
        var options = new VhdCreateOptions { BlockSize = blockSize, Durable = false };
        var models = new List<byte[]>();
        var levels = new List<VhdFile>();
        try
        {
            for (var level = 0; level < Names.Length; level++)
            {
                var path = dir.File(Names[level]);
                levels.Add(level == 0 ? VhdFile.CreateDynamic(path, size, options) : VhdFile.CreateDifferencing(path, levels[^1], options));
                models.Add(level == 0 ? new byte[size] : models[^1].ToArray());
                var leaf = levels[^1];
                var model = models[^1];
                AssertChainReads(levels, models, $"level {level} created");
                Assert.Equal(level == 0 ? DiskType.Dynamic : DiskType.Differencing, leaf.Footer.DiskType);

                for (var step = 0; step < StepsPerLevel; step++)
                {
                    var what = WriteRandom(leaf, model, rng);
                    var label = $"level {level} step {step} ({what})";
                    AssertChainReads(levels, models, label);
                    AssertRandomRangeReads(leaf, model, rng, label);
                    if (step % 6 == 5)
                    {
                        AssertReopenedChainReads(level, models, label);
                    }
                }

                AssertReopenedChainReads(level, models, $"level {level} done");
            }
        }
        finally
        {
            foreach (var file in levels)
            {
                file.Dispose();
            }
        }

        // Every level really holds blocks of its own, and the leaf is a differencing disk two parents deep.
        using var chain = VhdFile.Open(dir.File(Names[2]));
        Assert.Equal("child1.vhd", chain.Header.ParentUnicodeName);
        var child1 = Assert.IsType<VhdFile>(chain.Parent);
        Assert.Equal("base.vhd", child1.Header.ParentUnicodeName);
        Assert.Null(Assert.IsType<VhdFile>(child1.Parent).Parent);
        for (var file = chain; file is not null; file = file.Parent as VhdFile)
        {
            Assert.NotEmpty(file.AllocatedBlocks());
        }
    }

    /// <summary>Whole sectors of random, zero (which must hide the parent's data) or patterned bytes, of 1 sector up
    /// to a few blocks, anywhere in the disk; applied to the file and the model alike.</summary>
    private static string WriteRandom(VhdFile file, byte[] model, Random rng)
    {
        var diskSectors = (int)(file.VirtualSize / Sector);
        var blockSectors = file.BlockSize / Sector;
        var longest = Math.Min(diskSectors, Math.Max(8, Math.Min(3 * blockSectors, 1024)));
        var sectors = rng.Next(4) == 0 ? rng.Next(1, Math.Min(4, longest) + 1) : rng.Next(1, longest + 1);
        var first = rng.Next(3) == 0
            ? Math.Min(diskSectors - sectors, ((rng.Next(diskSectors) / blockSectors) * blockSectors) + blockSectors - 1) // ends a block
            : rng.Next(diskSectors - sectors + 1);
        var data = new byte[sectors * Sector];
        var kind = rng.Next(10) switch
        {
            < 7 => "random",
            < 9 => "zeros",
            _ => "pattern",
        };
        if (kind == "random")
        {
            rng.NextBytes(data);
        }
        else if (kind == "pattern")
        {
            data.AsSpan().Fill((byte)rng.Next(1, 256));
        }

        var offset = (long)first * Sector;
        file.Write(offset, data);
        data.CopyTo(model, offset);
        return $"{kind} sectors [{first}, +{sectors})";
    }

    /// <summary>Each open level reads as its own model (the lower ones must not have changed).</summary>
    private static void AssertChainReads(List<VhdFile> levels, List<byte[]> models, string label)
    {
        for (var level = 0; level < levels.Count; level++)
        {
            AssertWholeDisk(levels[level], models[level], $"{label}: {Names[level]}");
        }
    }

    /// <summary>The level reopened from disk resolves its parents by file name, and each reads as its model.</summary>
    private void AssertReopenedChainReads(int level, List<byte[]> models, string label)
    {
        using var reopened = VhdFile.Open(dir.File(Names[level]));
        var file = reopened;
        for (var l = level; l >= 0; l--)
        {
            Assert.NotNull(file);
            Assert.Equal(Names[l], Path.GetFileName(file!.Path));
            AssertWholeDisk(file, models[l], $"{label}: reopened {Names[l]}");
            file = file.Parent as VhdFile;
        }

        Assert.Null(file);
    }

    private static void AssertWholeDisk(VhdFile file, byte[] model, string label)
    {
        Assert.Equal(model.Length, file.VirtualSize);
        var content = new byte[model.Length];
        file.Read(0, content);
        var same = model.AsSpan().CommonPrefixLength(content);
        Assert.True(same == model.Length, $"{label}: first difference at byte {same} (block {same / file.BlockSize})");
    }

    /// <summary>A few reads of random whole-sector ranges, which start and end inside blocks.</summary>
    private static void AssertRandomRangeReads(VhdFile file, byte[] model, Random rng, string label)
    {
        var diskSectors = (int)(file.VirtualSize / Sector);
        for (var k = 0; k < 3; k++)
        {
            var sectors = rng.Next(1, Math.Min(diskSectors, 3 * (file.BlockSize / Sector)) + 1);
            var first = rng.Next(diskSectors - sectors + 1);
            var buffer = new byte[sectors * Sector];
            file.Read((long)first * Sector, buffer);
            var expected = model.AsSpan(first * Sector, buffer.Length);
            Assert.True(expected.SequenceEqual(buffer), $"{label}: read of sectors [{first}, +{sectors}) differs");
        }
    }
}
