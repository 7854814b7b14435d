namespace XcrCluster.Vhd.Tests;

/// <summary>Builds raw disk images with random data and holes, reproducible from a seed.</summary>
public static class RawImage
{
    /// <summary>Random content in some 64 KiB chunks, zero elsewhere; the last sector always holds data.</summary>
    public static byte[] Random(long size, int seed, double fill = 0.3)
    {
        var rng = new Random(seed);
        var image = new byte[size];
        const int chunk = 64 * 1024;
        for (long off = 0; off < size; off += chunk)
        {
            if (rng.NextDouble() < fill)
            {
                rng.NextBytes(image.AsSpan((int)off, (int)Math.Min(chunk, size - off)));
            }
        }

        rng.NextBytes(image.AsSpan((int)(size - VhdConstants.SectorSize)));
        return image;
    }

    public static string Save(TempDir dir, string name, byte[] image)
    {
        var path = dir.File(name);
        File.WriteAllBytes(path, image);
        return path;
    }

    /// <summary>Reads a whole VHD stream into a flat image through the forward-only reader.</summary>
    public static async Task<byte[]> ReadThroughStreamAsync(Stream stream)
    {
        var reader = await VhdStreamReader.OpenAsync(stream);
        var image = new byte[reader.VirtualSize];
        var bitmapSectors = reader.Header.SectorsPerBlock;
        await foreach (var block in reader.ReadBlocksAsync())
        {
            var start = (long)block.Index * reader.Header.BlockSize;
            var length = (int)Math.Min(reader.Header.BlockSize, reader.VirtualSize - start);
            for (var s = 0; s < Math.Min(bitmapSectors, length / VhdConstants.SectorSize); s++)
            {
                if (SectorBitmap.IsSet(block.Bitmap.Span, s))
                {
                    block.Data.Span.Slice(s * VhdConstants.SectorSize, VhdConstants.SectorSize).CopyTo(image.AsSpan((int)(start + (s * VhdConstants.SectorSize))));
                }
            }
        }

        Assert.NotNull(reader.TrailingFooter);
        return image;
    }

    public static byte[] ReadThroughFile(string path)
    {
        using var file = VhdFile.Open(path);
        var image = new byte[file.VirtualSize];
        file.Read(0, image);
        return image;
    }
}
