namespace XcrCluster.XapiSim.Model;

/// <summary>
/// Two views of the VDI rows, kept current on every touch and delete as <see cref="ReverseIndex"/> is, so storage
/// calls cost O(change) at data-centre size rather than a scan of every VDI: each disk's children (the VDIs whose
/// sm_config["vhd-parent"] names it, the chain a file SR's VHDs follow; VDI.destroy and the collector ask) and
/// each SR's virtual_allocation (the virtual sizes of its managed VDIs, as the SR's record shows it).
/// A field changed without <see cref="XapiDatabase.Touch"/> is not seen: every change must touch.
/// </summary>
internal sealed class VdiIndex
{
    private static readonly IComparer<XapiObject> BySeq = Comparer<XapiObject>.Create((a, b) => a.Seq.CompareTo(b.Seq));

    /// <summary>What each VDI counted for when last seen, so a change or delete takes exactly that back.</summary>
    private readonly Dictionary<string, (string? Parent, string? Sr, long Allocated)> counted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<XapiObject>> children = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> allocation = new(StringComparer.Ordinal);

    /// <summary>The VDIs whose vhd-parent is this uuid, in creation order.</summary>
    public IReadOnlyCollection<XapiObject> Children(string uuid) => children.TryGetValue(uuid, out var set) ? set : [];

    /// <summary>The sum of virtual_size over the SR's managed VDIs.</summary>
    public long Allocation(string srRef) => allocation.GetValueOrDefault(srRef);

    /// <summary>After a create or change of any row (non-VDIs are ignored).</summary>
    public void Update(XapiObject row)
    {
        if (row.Schema != Schemas.Vdi)
        {
            return;
        }

        var now = (row.MapValue("sm_config", Storage.Vdis.VhdParent), row.Fields["SR"] as string,
            row.Bool("managed") ? row.Int("virtual_size") : 0);
        if (counted.TryGetValue(row.Ref, out var was) && was == now)
        {
            return;
        }

        Remove(row);
        counted[row.Ref] = now;
        if (now.Item1 is { } parent)
        {
            if (!children.TryGetValue(parent, out var set))
            {
                children[parent] = set = new SortedSet<XapiObject>(BySeq);
            }

            set.Add(row);
        }

        if (now.Item2 is { } sr)
        {
            allocation[sr] = allocation.GetValueOrDefault(sr) + now.Item3;
        }
    }

    /// <summary>After a delete: the row counts for nothing any more.</summary>
    public void Remove(XapiObject row)
    {
        if (!counted.Remove(row.Ref, out var was))
        {
            return;
        }

        if (was.Parent is { } parent && children.TryGetValue(parent, out var set) && set.Remove(row) && set.Count == 0)
        {
            children.Remove(parent);
        }

        if (was.Sr is { } sr)
        {
            allocation[sr] = allocation.GetValueOrDefault(sr) - was.Allocated;
        }
    }
}
