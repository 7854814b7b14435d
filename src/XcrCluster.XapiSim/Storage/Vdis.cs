using XcrCluster.Xapi;
using XcrCluster.Vhd;
using XcrCluster.XapiSim.Model;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// VDI rows and their files, kept in step. Chains follow a file-based XCP-ng SR: a snapshot or clone turns
/// the disk's file into a hidden base copy (managed=false, read-only) with the disk and the new VDI as its
/// children; sm_config['vhd-parent'] names each child's parent by uuid. Callers hold the database lock.
/// </summary>
public static class Vdis
{
    public const string VhdParent = "vhd-parent";

    private static readonly string[] CopiedOnSnapshot = ["name_label", "name_description", "type", "sharable", "other_config", "xenstore_data", "on_boot", "allow_caching", "tags"];

    /// <summary>Creates a VDI and its file; <paramref name="refreshUsage"/> false leaves the SR's usage to the caller
    /// (a fixture creating thousands of disks refreshes once).</summary>
    public static XapiObject Create(
        SimPool pool, IReadOnlyDictionary<string, object?> record, DiskFill? fill = null, bool refreshUsage = true)
    {
        var sr = pool.Db.Get(Schemas.Sr, record.TryGetValue("SR", out var s) && s is string r ? r : throw new XapiException("FIELD_TYPE_ERROR", "SR"));
        var size = record.TryGetValue("virtual_size", out var v) ? (long)Schemas.Vdi.Field("virtual_size").Coerce(v)! : throw new XapiException("FIELD_TYPE_ERROR", "virtual_size");
        size = VhdConstants.RoundUpToSector(size);
        if (size <= 0 || size > VhdConstants.MaxDiskSize)
        {
            throw new XapiException("SR_BACKEND_FAILURE_79", "", "VDI Invalid size", "");
        }

        EnsureSpace(pool, sr, 0);
        var uuid = Guid.NewGuid().ToString();
        var fields = record.Where(p => Schemas.Vdi.ByName.TryGetValue(p.Key, out var f) && !f.IsComputed).ToDictionary();
        fields["uuid"] = uuid;
        fields["virtual_size"] = size;
        fields["location"] = uuid;
        fields["managed"] = true;
        var row = pool.Db.Create(Schemas.Vdi, fields);
        try
        {
            pool.StorageOf(sr).CreateDisk(uuid, size, fill ?? new DiskFill());
        }
        catch
        {
            pool.Db.Delete(row);
            throw;
        }

        if (refreshUsage)
        {
            RefreshUsage(pool, sr, row);
        }

        return row;
    }

    /// <summary>VDI.snapshot (isSnapshot) or VDI.clone: splits the chain and returns the new VDI.</summary>
    public static XapiObject Snapshot(SimPool pool, XapiObject vdi, bool isSnapshot)
    {
        var sr = pool.Db.Get(Schemas.Sr, vdi.Str("SR"));
        EnsureSpace(pool, sr, 0);
        var storage = pool.StorageOf(sr);
        var baseUuid = Guid.NewGuid().ToString();
        var newUuid = Guid.NewGuid().ToString();
        storage.Split(vdi.Str("location"), baseUuid, newUuid);

        var baseCopy = pool.Db.Create(Schemas.Vdi, new Dictionary<string, object?>
        {
            ["uuid"] = baseUuid,
            ["name_label"] = "base copy",
            ["SR"] = sr.Ref,
            ["virtual_size"] = vdi.Int("virtual_size"),
            ["read_only"] = true,
            ["managed"] = false,
            ["location"] = baseUuid,
            ["sm_config"] = ParentConfig(vdi.MapValue("sm_config", VhdParent)),
        });
        vdi.Map("sm_config")[VhdParent] = baseCopy.Uuid;
        pool.Db.Touch(vdi);

        var fields = CopiedOnSnapshot.ToDictionary(f => f, f => pool.Db.FieldValue(vdi, Schemas.Vdi.Field(f)));
        fields["uuid"] = newUuid;
        fields["SR"] = sr.Ref;
        fields["virtual_size"] = vdi.Int("virtual_size");
        fields["location"] = newUuid;
        fields["read_only"] = vdi.Bool("read_only");
        fields["sm_config"] = ParentConfig(baseCopy.Uuid);
        if (isSnapshot)
        {
            fields["is_a_snapshot"] = true;
            fields["snapshot_of"] = vdi.Ref;
            fields["snapshot_time"] = DateTime.UtcNow;
        }

        var created = pool.Db.Create(Schemas.Vdi, fields);
        RefreshUsage(pool, sr, vdi, baseCopy, created);
        return created;
    }

    public static void Destroy(SimPool pool, XapiObject vdi)
    {
        var vbds = pool.Db.Where(Schemas.Vbd, "VDI", vdi.Ref).ToList();
        if (vbds.Any(b => b.Bool("currently_attached")))
        {
            throw new XapiException("VDI_IN_USE", vdi.Ref, "destroy");
        }

        foreach (var vbd in vbds)
        {
            pool.Db.Delete(vbd);
        }

        var sr = pool.Db.Get(Schemas.Sr, vdi.Str("SR"));
        pool.Db.Delete(vdi);
        if (!Children(pool, vdi.Uuid).Any())
        {
            pool.StorageOf(sr).Delete(vdi.Str("location"));
        }

        RefreshUsage(pool, sr);
    }

    public static void Resize(SimPool pool, XapiObject vdi, long size)
    {
        size = VhdConstants.RoundUpToSector(size);
        var storage = pool.StorageOfVdi(vdi);
        if (storage.IsNull)
        {
            // No file, no BAT room to respect; the content hash (of the old size) no longer describes the disk.
            if (size < vdi.Int("virtual_size") || size > VhdConstants.MaxDiskSize)
            {
                throw new XapiException("SR_BACKEND_FAILURE_79", "", "VDI Invalid size", "");
            }

            pool.Db.Set(vdi, "virtual_size", size);
            return;
        }

        using (var disk = storage.Open(vdi.Str("location"), writable: true))
        {
            // A shrink, an absurd size or growth beyond the BAT room the file was created with is refused.
            if (size < vdi.Int("virtual_size") || size > VhdConstants.MaxDiskSize || VhdHeader.BlockCountFor(size, disk.BlockSize) > disk.Header.MaxTableEntries)
            {
                throw new XapiException("SR_BACKEND_FAILURE_79", "", "VDI Invalid size", "");
            }

            disk.UpdateFooter(f => f with { CurrentSize = size, OriginalSize = size, Geometry = DiskGeometry.FromSize(size) });
        }

        pool.Db.Set(vdi, "virtual_size", size);
    }

    /// <summary>VDIs whose file sits directly on the given VDI's file (an index lookup, not a scan).</summary>
    public static List<XapiObject> Children(SimPool pool, string uuid) => pool.Db.VdiChildren(uuid);

    public static void EnsureSpace(SimPool pool, XapiObject sr, long bytes)
    {
        if (pool.Faults.SrFull || sr.Int("physical_utilisation") + bytes > sr.Int("physical_size"))
        {
            throw new XapiException("SR_BACKEND_FAILURE_44", "", "There is insufficient space", "");
        }
    }

    /// <summary>After the files of <paramref name="changed"/> (VDIs on <paramref name="sr"/>) were written, created or
    /// replaced, or other files of the SR deleted: each changed VDI's physical_utilisation is its file's size, the
    /// SR's physical_utilisation the bytes of all its files and its virtual_allocation the virtual sizes of its
    /// managed VDIs, as before; only the changed files are measured, the totals are kept as they change
    /// (<see cref="SrStorage.Measure"/>, <see cref="XapiDatabase.VirtualAllocation"/>), so a call costs O(change).</summary>
    public static void RefreshUsage(SimPool pool, XapiObject sr, params ReadOnlySpan<XapiObject> changed)
    {
        var storage = pool.StorageOf(sr);
        foreach (var vdi in changed)
        {
            var size = storage.Measure(vdi.Str("location"));
            if (pool.Db.TryGet(vdi.Ref, out var live) && ReferenceEquals(live, vdi) && vdi.Int("physical_utilisation") != size)
            {
                pool.Db.Set(vdi, "physical_utilisation", size);
            }
        }

        var used = storage.PhysicalUsage();
        if (sr.Int("physical_utilisation") != used)
        {
            pool.Db.Set(sr, "physical_utilisation", used);
        }

        var allocated = pool.Db.VirtualAllocation(sr.Ref);
        if (sr.Int("virtual_allocation") != allocated)
        {
            pool.Db.Set(sr, "virtual_allocation", allocated);
        }
    }

    /// <summary>Every VDI of the SR measured: once, after a fixture created thousands of disks.</summary>
    public static void RecountUsage(SimPool pool, XapiObject sr) => RefreshUsage(pool, sr, [.. pool.Db.Where(Schemas.Vdi, "SR", sr.Ref)]);

    private static Dictionary<string, object?> ParentConfig(string? parentUuid)
        => parentUuid is null ? [] : new Dictionary<string, object?> { [VhdParent] = parentUuid };

    public static string NewMac(Random? rng = null)
    {
        rng ??= Random.Shared;
        Span<byte> b = stackalloc byte[5];
        rng.NextBytes(b);
        return $"16:{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}";
    }

    internal static string FormatNow() => XapiValue.FormatDateTime(DateTime.UtcNow);
}
