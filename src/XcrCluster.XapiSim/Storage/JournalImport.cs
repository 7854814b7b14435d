using XcrCluster.Vhd;

namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// A file SR's import onto a disk whose file is big: instead of a staged copy of the whole file (O(disk) for a
/// delta of a few blocks) the import writes a journal, a differencing VHD over the live disk, so reads (the raw
/// import's zero check) see the disk as it is. Commit renames the journal to "X.vhd.journal" (the import is
/// then complete) and applies its blocks into the disk's file, then deletes it; a crash in between leaves
/// the journal, which <see cref="Replay"/> applies again at the next start (writing the same sectors twice
/// changes nothing). A crash before the rename leaves an "X.vhd.importing" file, dropped at start: the disk
/// is then as it was.
/// </summary>
internal sealed class JournalImport : ImportTarget
{
    public const string Suffix = ".journal";
    private readonly SrStorage storage;
    private readonly string location;
    private readonly string stagingPath;
    private readonly VhdFile live;
    private readonly VhdFile journal;
    private bool sealedJournal;

    public JournalImport(SrStorage storage, string location, string stagingPath, VhdCreateOptions options)
    {
        this.storage = storage;
        this.location = location;
        this.stagingPath = stagingPath;
        live = storage.Open(location);
        try
        {
            File.Delete(stagingPath);
            journal = VhdFile.CreateDifferencing(stagingPath, live, new VhdParent(live.Footer.UniqueId, location + ".vhd", 0), options);
        }
        catch
        {
            live.Dispose();
            throw;
        }
    }

    public override long VirtualSize => live.VirtualSize;

    public override void WriteBlock(int index, ReadOnlySpan<byte> bitmap, ReadOnlySpan<byte> data)
        => journal.WriteBlock(index, bitmap, data);

    public override void Write(long offset, ReadOnlySpan<byte> data) => FileImport.WriteSkippingZeros(journal, offset, data);

    public override void Commit()
    {
        Seal();
        Replay(storage, location);
    }

    /// <summary>The import is complete: from here the journal is applied, now or at the next start.</summary>
    internal void Seal()
    {
        journal.Dispose();
        live.Dispose();
        File.Move(stagingPath, storage.PathOf(location) + Suffix, overwrite: true);
        sealedJournal = true;
    }

    /// <summary>Applies a sealed journal's blocks (their set sectors) to the disk's file and deletes it.</summary>
    public static void Replay(SrStorage storage, string location)
    {
        var path = storage.PathOf(location) + Suffix;
        lock (storage.Structure)
        {
            var writable = new VhdOpenOptions { Writable = true, ResolveParent = false, Durable = false };
            using (var target = VhdFile.Open(storage.PathOf(location), writable))
            using (var source = VhdFile.Open(path, new VhdOpenOptions { ResolveParent = false }))
            {
                var bitmap = new byte[source.Header.BitmapSize];
                var data = new byte[source.BlockSize];
                foreach (var index in source.AllocatedBlocks())
                {
                    source.ReadOwnBlock(index, bitmap, data);
                    target.WriteBlock(index, bitmap, data);
                }
            }

            File.Delete(path);
            storage.Measure(location);
        }
    }

    public override void Dispose()
    {
        journal.Dispose();
        live.Dispose();
        if (!sealedJournal)
        {
            File.Delete(stagingPath);
        }
    }
}
