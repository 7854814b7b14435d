using XcrCluster.Domain;
using XcrCluster.Replication.Recovery;
using XcrCluster.Xapi.Mirror;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>
/// The keys the engine finds VMs and disks by (<see cref="Pool.SetAsync{T}"/>): the reads of one VM's run touch that
/// VM's own objects (its disks' chains, its restore points, its run's markers), not every record of the pool. With a
/// mirror the index is kept as events arrive; without one it is made from the one get_all_records the read costs anyway.
/// </summary>
public sealed class PoolIndex : IRecordIndex
{
    public static readonly PoolIndex Instance = new();

    private PoolIndex()
    {
    }

    /// <summary>A VM or a disk by uuid.</summary>
    public static string Uuid(string uuid) => "uuid:" + uuid;

    /// <summary>The disks whose VHD parent (sm-config vhd-parent) is the disk with this uuid.</summary>
    public static string Children(string uuid) => "parent:" + uuid;

    /// <summary>The snapshot disks taken of the disk with this ref.</summary>
    public static string SnapshotsOf(string @ref) => "snapshot-of:" + @ref;

    /// <summary>Disks copied from the source disk (snapshot) with this uuid (xo:copy_of).</summary>
    public static string CopiesOf(string uuid) => "copy-of:" + uuid;

    /// <summary>Disks holding this content (xo:backup:contentKey).</summary>
    public static string Content(string key) => "content:" + key;

    /// <summary>VMs and disks replicated from, or snapshots taken of, the source VM with this uuid (xo:backup:vm).</summary>
    public static string OfSourceVm(string uuid) => "vm:" + uuid;

    /// <summary>VMs and disks carrying a run's marker (<see cref="RunScope.Marker"/>) as importing or committing.</summary>
    public static string Marked(string marker) => "marker:" + marker;

    /// <summary>Failover-test clones of the source VM with this uuid, by their name's mark (<see cref="FailoverTestMark"/>).</summary>
    public static string FailoverTestsOf(string uuid) => "failover-test:" + uuid;

    public IEnumerable<string> Keys(object record) => record switch
    {
        VmRecord vm => VmKeys(vm),
        VdiRecord vdi => VdiKeys(vdi),
        _ => [],
    };

    private static IEnumerable<string> VmKeys(VmRecord vm)
    {
        yield return Uuid(vm.Uuid);
        foreach (var key in MetadataKeys(vm.OtherConfig))
        {
            yield return key;
        }

        if (FailoverTestMark.Read(vm.NameLabel) is { } mark)
        {
            yield return FailoverTestsOf(mark.Vm);
        }
    }

    private static IEnumerable<string> VdiKeys(VdiRecord vdi)
    {
        yield return Uuid(vdi.Uuid);
        if (vdi.VhdParent is { } parent)
        {
            yield return Children(parent);
        }

        if (vdi.IsASnapshot)
        {
            yield return SnapshotsOf(vdi.SnapshotOf);
        }

        foreach (var key in MetadataKeys(vdi.OtherConfig))
        {
            yield return key;
        }

        if (vdi.OtherConfig.GetValueOrDefault(XoMetadata.CopyOf) is { } copyOf)
        {
            yield return CopiesOf(copyOf);
        }

        if (vdi.OtherConfig.GetValueOrDefault(XoMetadata.ContentKey) is { } content)
        {
            yield return Content(content);
        }
    }

    private static IEnumerable<string> MetadataKeys(IReadOnlyDictionary<string, string> otherConfig)
    {
        if (otherConfig.GetValueOrDefault(XoMetadata.Vm) is { } vm)
        {
            yield return OfSourceVm(vm);
        }

        var importing = otherConfig.GetValueOrDefault(RunScope.ImportingKey);
        if (importing is not null)
        {
            yield return Marked(importing);
        }

        if (otherConfig.GetValueOrDefault(RunScope.CommittingKey) is { } committing && committing != importing)
        {
            yield return Marked(committing);
        }
    }
}
