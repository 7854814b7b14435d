using System.Security.Cryptography;
using XcrCluster.Vhd;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>An import onto a disk whose file is big goes through a journal (no staged copy of the whole file):
/// the disk changes only once the import is complete, and a journal sealed before a crash is applied at the
/// next start.</summary>
public sealed class ImportJournalTests : IDisposable
{
    private const int Block = VhdConstants.DefaultBlockSize;
    private const long Size = 128L << 20;
    private readonly string dir = Directory.CreateTempSubdirectory("xcr-journal-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string Hash(SrStorage storage, string location, out byte[] image)
    {
        using var disk = storage.Open(location);
        image = new byte[disk.VirtualSize];
        disk.Read(0, image);
        return Convert.ToHexString(SHA256.HashData(image));
    }

    /// <summary>Three random blocks written raw into the import (one over an allocated block, one a gap), and
    /// the image they make of the disk.</summary>
    private static string Patch(ImportTarget import, byte[] image)
    {
        var rng = new Random(9);
        foreach (var index in new[] { 1, 10, 40 })
        {
            var data = new byte[Block];
            rng.NextBytes(data);
            import.Write((long)index * Block, data);
            data.CopyTo(image.AsSpan(index * Block));
        }

        return Convert.ToHexString(SHA256.HashData(image));
    }

    private SrStorage BigDisk()
    {
        var storage = new SrStorage(dir);
        storage.CreateDisk("d", Size, new DiskFill("random", 3, 0.7));
        Assert.True(storage.FileSize("d") > SrStorage.JournalAbove);
        return storage;
    }

    [Fact]
    public void A_complete_import_applies_its_journal_and_an_abandoned_one_changes_nothing()
    {
        var storage = BigDisk();
        var before = Hash(storage, "d", out var image);
        using (var abandoned = storage.BeginImport("d", Size))
        {
            Assert.IsType<JournalImport>(abandoned);
            Patch(abandoned, (byte[])image.Clone());
        }

        Assert.Equal(before, Hash(storage, "d", out _));
        string expected;
        using (var import = storage.BeginImport("d", Size))
        {
            expected = Patch(import, image);
            import.Commit();
        }

        Assert.Equal(expected, Hash(storage, "d", out _));
        Assert.Equal(["d.vhd"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void A_journal_sealed_before_a_crash_is_applied_at_the_next_start()
    {
        var storage = BigDisk();
        Hash(storage, "d", out var image);
        var before = Hash(storage, "d", out _);
        string expected;
        using (var import = (JournalImport)storage.BeginImport("d", Size))
        {
            expected = Patch(import, image);
            import.Seal(); // the process dies here, before the journal is applied
        }

        Assert.Equal(before, Hash(storage, "d", out _));
        var restarted = new SrStorage(dir);
        Assert.Equal(expected, Hash(restarted, "d", out _));
        Assert.Equal(["d.vhd"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }
}
