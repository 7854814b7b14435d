namespace XcrCluster.Vhd.Tests;

/// <summary>RunLength skips whole bytes of a run at once; it must still stop at the exact first sector that differs,
/// at any start, limit and mix of full, empty and partial bytes.</summary>
public sealed class SectorBitmapTests
{
    private static int NaiveRunLength(ReadOnlySpan<byte> bitmap, int sector, int limit)
    {
        var end = sector + 1;
        while (end < limit && SectorBitmap.IsSet(bitmap, end) == SectorBitmap.IsSet(bitmap, sector))
        {
            end++;
        }

        return end - sector;
    }

    [Fact]
    public void Run_lengths_equal_a_bit_by_bit_count_on_bitmaps_of_long_runs_and_single_bits()
    {
        var rng = new Random(16);
        var bitmap = new byte[512];
        for (var trial = 0; trial < 200; trial++)
        {
            // Runs of whole bytes (0x00, 0xFF) with the odd partial byte or flipped bit between them.
            for (var i = 0; i < bitmap.Length;)
            {
                var run = rng.Next(1, 80);
                var fill = rng.Next(3) switch { 0 => (byte)0, 1 => (byte)0xFF, _ => (byte)rng.Next(256) };
                bitmap.AsSpan(i, Math.Min(run, bitmap.Length - i)).Fill(fill);
                i += run;
            }

            var limit = rng.Next(1, (bitmap.Length * 8) + 1);
            for (var sector = 0; sector < limit; sector += rng.Next(1, 97))
            {
                Assert.Equal(NaiveRunLength(bitmap, sector, limit), SectorBitmap.RunLength(bitmap, sector, limit));
            }
        }

        Array.Fill(bitmap, (byte)0xFF);
        Assert.Equal(4096, SectorBitmap.RunLength(bitmap, 0, 4096));
        Assert.Equal(4093, SectorBitmap.RunLength(bitmap, 3, 4096));
        Array.Clear(bitmap);
        bitmap[^1] = 0x01;
        Assert.Equal(4095, SectorBitmap.RunLength(bitmap, 0, 4096));
        Assert.Equal(4090, SectorBitmap.RunLength(bitmap, 0, 4090));
    }
}
