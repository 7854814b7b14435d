namespace XcrCluster.Domain;

/// <summary>A network as the mapping sees it: its VLAN is the first PIF's (-1 untagged, null without PIF).</summary>
public sealed record NetworkInfo(string Ref, string Uuid, string Name, long? Vlan, bool IsDefault = false);

/// <summary>Where a replica's VIF goes on the target pool (docs/xen-orchestra.md §10, XO #2093): the network
/// with the same uuid (same pool), else the same VLAN and name, else the first network of that VLAN, else the
/// pool's default network (the management one), else the first.</summary>
public static class NetworkMapping
{
    /// <param name="mapping">The job's own choices (source network uuid to target network uuid), tried first.</param>
    public static NetworkInfo Choose(NetworkInfo? source, IReadOnlyList<NetworkInfo> targets, IReadOnlyDictionary<string, string>? mapping = null)
    {
        if (targets.Count == 0)
        {
            throw new InvalidOperationException("the target pool has no network");
        }

        return (source is not null && mapping?.GetValueOrDefault(source.Uuid) is { } chosen ? targets.FirstOrDefault(t => t.Uuid == chosen) : null)
            ?? (source is null ? null
                : targets.FirstOrDefault(t => t.Uuid == source.Uuid)
                ?? targets.FirstOrDefault(t => t.Vlan == source.Vlan && t.Name == source.Name)
                ?? (source.Vlan is { } vlan ? targets.FirstOrDefault(t => t.Vlan == vlan) : null))
            ?? targets.FirstOrDefault(t => t.IsDefault)
            ?? targets[0];
    }
}
