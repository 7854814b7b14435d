namespace XcrCluster.Replication.Tests;

/// <summary>Tests that start processes (node) run one at a time: two cores.</summary>
[CollectionDefinition("processes", DisableParallelization = true)]
public sealed class ProcessCollection
{
}
