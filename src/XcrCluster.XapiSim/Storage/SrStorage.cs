using System.Collections.Concurrent;
using XcrCluster.Vhd;

namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// One SR's storage: a directory of VHD files named "&lt;location&gt;.vhd" as on a file-based XCP-ng SR. A
/// differencing file names its parent by file name, or "synthetic:SEED:SIZE" for generated content.
/// Structural changes (snapshot, coalesce, delete) take <see cref="Structure"/>; exports pin the files they
/// read so the collector leaves those chains alone.
/// A null SR (SR.type "null", for benchmarks) has no directory and no files: its disks read as zeros, imports
/// are parsed and hashed (<see cref="NullContent"/>, kept in memory only) and structural changes touch records only.
/// </summary>
public sealed partial class SrStorage
{
    private const string ImportSuffix = ".importing";

    /// <summary>Above this file size an import writes a journal rather than a staged copy of the whole file.</summary>
    internal const long JournalAbove = 64L << 20;
    private readonly ConcurrentDictionary<string, int> pins = new(StringComparer.Ordinal);

    public SrStorage(string dir, bool isNull = false)
    {
        Dir = dir;
        IsNull = isNull;
        if (isNull)
        {
            return;
        }

        Directory.CreateDirectory(dir);
        foreach (var stale in Directory.EnumerateFiles(dir, "*" + ImportSuffix))
        {
            // An import cut by a crash never replaced its VDI's file: drop the half-written copy.
            File.Delete(stale);
        }

        foreach (var journal in Directory.EnumerateFiles(dir, "*.vhd" + JournalImport.Suffix))
        {
            // A complete import whose journal was being applied when the process died: apply it again.
            JournalImport.Replay(this, Path.GetFileName(journal)[..^(".vhd" + JournalImport.Suffix).Length]);
        }
    }

    public string Dir { get; }

    /// <summary>True for a null SR: no files, see the class summary.</summary>
    public bool IsNull { get; }

    public Lock Structure { get; } = new();

    /// <summary>Write-back of each block write is left to the OS: the simulator's crash safety comes from
    /// staging imports and renaming, and per-block fsyncs would only slow tests.</summary>
    private static readonly VhdCreateOptions CreateOptions = new() { Durable = false };

    /// <summary>Every file gets BAT room for VDI.resize (4x, at least 64 GiB), so growing never moves a BAT.</summary>
    private static VhdCreateOptions OptionsFor(long virtualSize) => CreateOptions with { MaxVirtualSize = Math.Min(VhdConstants.MaxDiskSize, Math.Max(virtualSize * 4, 64L << 30)) };

    public string PathOf(string location) => Path.Combine(Dir, location + ".vhd");

    public bool Exists(string location) => !IsNull && File.Exists(PathOf(location));

    /// <summary>A new disk; on a null SR it is zeros whatever the fill (nothing is stored).</summary>
    public void CreateDisk(string location, long virtualSize, DiskFill fill)
    {
        if (IsNull)
        {
            hashes.TryRemove(location, out _);
            return;
        }

        if (fill.Kind == "synthetic")
        {
            using var synthetic = new SyntheticDisk(virtualSize, (ulong)fill.Seed);
            var parent = new VhdParent(Guid.Empty, synthetic.Name, 0);
            using (VhdFile.CreateDifferencing(PathOf(location), synthetic, parent, OptionsFor(virtualSize)))
            {
            }
        }
        else
        {
            using var disk = VhdFile.CreateDynamic(PathOf(location), virtualSize, OptionsFor(virtualSize));
            fill.Apply(disk);
        }

        Measure(location);
    }

    /// <summary>Opens a disk with its whole parent chain (read-only unless asked).</summary>
    public VhdFile Open(string location, bool writable = false) => OpenPath(PathOf(location), writable);

    private VhdFile OpenPath(string path, bool writable)
        => VhdFile.Open(path, new VhdOpenOptions { Writable = writable, Durable = false, OpenParent = OpenParent });

    private IVirtualDisk OpenParent(string name)
        => SyntheticDisk.TryParse(name, out var synthetic) ? synthetic : OpenPath(Path.Combine(Dir, Path.GetFileName(name)), writable: false);

    /// <summary>The chain of a disk from the leaf down: each layer's name and the blocks it allocates
    /// (a synthetic root allocates every block).</summary>
    public IReadOnlyList<Layer> Chain(string location)
    {
        var layers = new List<Layer>();
        var name = location + ".vhd";
        if (IsNull)
        {
            return [new Layer(name, [], 0)];
        }

        while (true)
        {
            if (SyntheticDisk.TryParse(name, out var synthetic))
            {
                layers.Add(new Layer(name, null, VhdHeader.BlockCountFor(synthetic.VirtualSize, VhdConstants.DefaultBlockSize)));
                return layers;
            }

            using var file = VhdFile.Open(Path.Combine(Dir, name), new VhdOpenOptions { ResolveParent = false });
            layers.Add(new Layer(name, file.AllocatedBlocks().ToHashSet(), file.BlockCount));
            if (file.Footer.DiskType != DiskType.Differencing)
            {
                return layers;
            }

            name = file.Header.ParentUnicodeName;
        }
    }

    /// <summary>XCP-ng's snapshot on a file SR: the leaf's file becomes the read-only base copy and two new
    /// children sit on it, the leaf again (same location) and the new disk.</summary>
    public void Split(string leaf, string baseCopy, string newChild)
    {
        lock (Structure)
        {
            if (IsNull)
            {
                // Both children show what the leaf showed.
                SetNullContent(baseCopy, hashes.GetValueOrDefault(leaf));
                SetNullContent(newChild, hashes.GetValueOrDefault(leaf));
                return;
            }

            File.Move(PathOf(leaf), PathOf(baseCopy));
            using var parent = Open(baseCopy);
            using (VhdFile.CreateDifferencing(PathOf(leaf), parent, OptionsFor(parent.VirtualSize)))
            {
            }

            using (VhdFile.CreateDifferencing(PathOf(newChild), parent, OptionsFor(parent.VirtualSize)))
            {
            }

            Measure(leaf);
            Measure(baseCopy);
            Measure(newChild);
        }
    }

    public void Delete(string location)
    {
        lock (Structure)
        {
            if (IsNull)
            {
                hashes.TryRemove(location, out _);
                return;
            }

            File.Delete(PathOf(location));
            Measure(location);
        }
    }

    /// <summary>Merges a child into its parent (the parent's only child) and lets the merged file take the
    /// child's name and identity, so the child's own children still find it. Writing the child's sectors into
    /// the parent changes nothing the child shows, so a crash part way leaves every disk readable.</summary>
    public void Coalesce(string parent, string child)
    {
        lock (Structure)
        {
            if (IsNull)
            {
                // The child's content does not change; the parent's record goes.
                hashes.TryRemove(parent, out _);
                return;
            }

            Guid childId;
            using (var target = Open(parent, writable: true))
            using (var source = VhdFile.Open(PathOf(child), new VhdOpenOptions { ResolveParent = false }))
            {
                childId = source.Footer.UniqueId;
                if (source.VirtualSize > target.VirtualSize)
                {
                    target.UpdateFooter(f => f with { CurrentSize = source.VirtualSize, OriginalSize = source.VirtualSize, Geometry = source.Footer.Geometry });
                }

                var bitmap = new byte[source.Header.BitmapSize];
                var data = new byte[source.BlockSize];
                foreach (var index in source.AllocatedBlocks())
                {
                    source.ReadOwnBlock(index, bitmap, data);
                    target.WriteBlock(index, bitmap, data);
                }

                target.UpdateFooter(f => f with { UniqueId = childId });
            }

            File.Move(PathOf(parent), PathOf(child), overwrite: true);
            Measure(parent);
            Measure(child);
        }
    }

    /// <summary>Where an import writes: on a file SR a staged copy of the disk's file, swapped in only when
    /// complete; on a null SR a hash of the content, recorded at commit.</summary>
    public ImportTarget BeginImport(string location, long virtualSize)
    {
        if (IsNull)
        {
            return new NullImport(virtualSize, content => hashes[location] = content);
        }

        var staging = PathOf(location) + ImportSuffix;
        if (FileSize(location) > JournalAbove)
        {
            return new JournalImport(this, location, staging, OptionsFor(virtualSize));
        }

        File.Copy(PathOf(location), staging, overwrite: true);
        return new FileImport(OpenPath(staging, writable: true), () =>
        {
            lock (Structure)
            {
                File.Move(staging, PathOf(location), overwrite: true);
                Measure(location);
            }
        }, () => File.Delete(staging));
    }

    public void Pin(IEnumerable<string> names)
    {
        foreach (var n in names)
        {
            pins.AddOrUpdate(n, 1, (_, c) => c + 1);
        }
    }

    public void Unpin(IEnumerable<string> names)
    {
        foreach (var n in names)
        {
            pins.AddOrUpdate(n, 0, (_, c) => Math.Max(0, c - 1));
        }
    }

    public bool IsPinned(string location) => pins.TryGetValue(location + ".vhd", out var c) && c > 0;

    public sealed record Layer(string Name, HashSet<int>? Blocks, int BlockCount)
    {
        public bool IsAllocated(int index) => Blocks?.Contains(index) ?? index < BlockCount;
    }
}
