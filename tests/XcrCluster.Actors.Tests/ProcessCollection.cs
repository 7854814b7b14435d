namespace XcrCluster.Actors.Tests;

/// <summary>Tests that start whole nodes run one at a time: two cores.</summary>
[CollectionDefinition("processes", DisableParallelization = true)]
public sealed class ProcessCollection
{
}
