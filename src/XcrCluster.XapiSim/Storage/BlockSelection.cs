namespace XcrCluster.XapiSim.Storage;

/// <summary>Which blocks an export carries, as XAPI's vhd-tool chooses them: without a base, every block
/// allocated anywhere in the chain; with a base, every block allocated in a layer that is on only one of the
/// two chains (by allocation at block granularity, not by content).</summary>
public static class BlockSelection
{
    public static List<int> Full(IReadOnlyList<SrStorage.Layer> chain, int blockCount)
        => Enumerable.Range(0, blockCount).Where(i => chain.Any(l => l.IsAllocated(i))).ToList();

    public static List<int> Delta(IReadOnlyList<SrStorage.Layer> chain, IReadOnlyList<SrStorage.Layer> baseChain, int blockCount)
    {
        var shared = chain.Select(l => l.Name).Intersect(baseChain.Select(l => l.Name)).ToHashSet();
        var distinct = chain.Concat(baseChain).Where(l => !shared.Contains(l.Name)).ToList();
        return Enumerable.Range(0, blockCount).Where(i => distinct.Any(l => l.IsAllocated(i))).ToList();
    }
}
