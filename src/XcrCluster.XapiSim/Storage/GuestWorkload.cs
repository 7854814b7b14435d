using XcrCluster.Vhd;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Storage;

/// <summary>What a running guest does to its disks, outside the XAPI surface: writes whole 2 MiB blocks of
/// seeded random data, and the content's hash (<see cref="ContentHasher"/>) for tests that compare disks across pools.</summary>
public static class GuestWorkload
{
    /// <summary>Writes <paramref name="count"/> distinct random blocks (or the given block indices) into the
    /// VM's disk number <paramref name="disk"/> (by userdevice order); returns the VDI uuid and the blocks.</summary>
    public static (string Vdi, IReadOnlyList<int> Blocks) Write(SimPool pool, string vmUuid, int disk, int count, int seed, IReadOnlyList<int>? indices = null)
    {
        lock (pool.Db.Sync)
        {
            var (vm, disks) = Disks(pool, vmUuid);
            if (disk < 0 || disk >= disks.Count)
            {
                throw new XapiException("VM_HAS_NO_SUCH_DISK", vm.Ref, disk.ToString());
            }

            var vdi = pool.Db.Get(Schemas.Vdi, disks[disk].Str("VDI"));
            var storage = pool.StorageOfVdi(vdi);
            if (storage.IsNull)
            {
                throw new XapiException("SR_OPERATION_NOT_SUPPORTED", vdi.Str("SR"));
            }

            var rng = new Random(seed);
            lock (storage.Structure)
            {
                using var file = storage.Open(vdi.Str("location"), writable: true);
                var blocks = indices?.Distinct().Order().ToList() ?? Pick(rng, file.BlockCount, count);
                var data = new byte[file.BlockSize];
                foreach (var index in blocks)
                {
                    if (index < 0 || index >= file.BlockCount)
                    {
                        throw new XapiException("VDI_IO_ERROR", "Device I/O errors", $"block {index} is beyond the end of the disk");
                    }

                    rng.NextBytes(data);
                    var offset = (long)index * file.BlockSize;
                    file.Write(offset, data.AsSpan(0, (int)Math.Min(data.Length, file.VirtualSize - offset)));
                }

                Vdis.RefreshUsage(pool, pool.Db.Get(Schemas.Sr, vdi.Str("SR")), vdi);
                return (vdi.Uuid, blocks);
            }
        }
    }

    /// <summary>The content hash of the whole virtual disk, read through its chain; on a null SR the hash of what
    /// was imported (<see cref="NullContent"/>), or "" when a resize made it unknown.</summary>
    public static string Checksum(SimPool pool, string vdiId)
    {
        SrStorage storage;
        string location;
        lock (pool.Db.Sync)
        {
            var vdi = pool.Db.GetByRefOrUuid(Schemas.Vdi, vdiId);
            storage = pool.StorageOfVdi(vdi);
            location = vdi.Str("location");
            if (storage.IsNull)
            {
                return storage.NullContentOf(location, vdi.Int("virtual_size"))?.Hash ?? "";
            }
        }

        lock (storage.Structure)
        {
            using var file = storage.Open(location);
            var hasher = new ContentHasher(file.VirtualSize);
            var buffer = new byte[VhdConstants.DefaultBlockSize];
            for (long offset = 0; offset < file.VirtualSize; offset += buffer.Length)
            {
                var n = (int)Math.Min(buffer.Length, file.VirtualSize - offset);
                file.Read(offset, buffer.AsSpan(0, n));
                hasher.Append(offset, buffer.AsSpan(0, n));
            }

            return hasher.Finish().Hash;
        }
    }

    /// <summary>How many disks the VM has (what <see cref="Write"/>'s disk number counts).</summary>
    public static int DiskCount(SimPool pool, string vmUuid)
    {
        lock (pool.Db.Sync)
        {
            return Disks(pool, vmUuid).Disks.Count;
        }
    }

    private static (XapiObject Vm, List<XapiObject> Disks) Disks(SimPool pool, string vmUuid)
    {
        var vm = pool.Db.GetByRefOrUuid(Schemas.Vm, vmUuid);
        return (vm, pool.Db.Where(Schemas.Vbd, "VM", vm.Ref).Where(b => b.Str("type") == "Disk" && pool.Db.TryGet(b.Str("VDI"), out _))
            .OrderBy(b => int.TryParse(b.Str("userdevice"), out var u) ? u : int.MaxValue).ToList());
    }

    private static List<int> Pick(Random rng, int blockCount, int count)
    {
        if (count < 0 || count > blockCount)
        {
            throw new XapiException("VDI_IO_ERROR", "Device I/O errors", $"cannot write {count} distinct blocks on a {blockCount}-block disk");
        }

        return Enumerable.Range(0, blockCount).OrderBy(_ => rng.Next()).Take(count).Order().ToList();
    }
}
