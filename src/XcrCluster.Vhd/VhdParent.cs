namespace XcrCluster.Vhd;

/// <summary>What a differencing disk records of its parent: unique id, modification time, file name.</summary>
public sealed record VhdParent(Guid UniqueId, string Name, uint Timestamp);
