using System.Text;
using XcrCluster.Vhd;

namespace XcrCluster.XapiSim.Storage;

/// <summary>How a fixture disk starts: zero, random (seeded, a fraction of blocks), a repeated pattern, or
/// synthetic (generated on read, no file content).</summary>
public sealed record DiskFill(string Kind = "zero", int Seed = 1, double Fraction = 0.5, string? Pattern = null)
{
    public void Apply(VhdFile disk)
    {
        var block = new byte[disk.BlockSize];
        switch (Kind)
        {
            case "zero":
            case "synthetic":
                return;
            case "random":
                var rng = new Random(Seed);
                for (var i = 0; i < disk.BlockCount; i++)
                {
                    if (rng.NextDouble() < Fraction)
                    {
                        rng.NextBytes(block);
                        Write(disk, i, block);
                    }
                }

                return;
            case "pattern":
                var bytes = Encoding.UTF8.GetBytes(Pattern is { Length: > 0 } p ? p : "xcr");
                for (var k = 0; k < block.Length; k++)
                {
                    block[k] = bytes[k % bytes.Length];
                }

                for (var i = 0; i < disk.BlockCount; i++)
                {
                    Write(disk, i, block);
                }

                return;
            default:
                throw new ArgumentException($"unknown fill \"{Kind}\" (zero, random, pattern, synthetic)");
        }
    }

    private static void Write(VhdFile disk, int index, byte[] block)
    {
        var offset = (long)index * disk.BlockSize;
        disk.Write(offset, block.AsSpan(0, (int)Math.Min(block.Length, disk.VirtualSize - offset)));
    }
}
