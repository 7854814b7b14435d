namespace XcrCluster.XapiSim.Tests;

/// <summary>Tests that start processes (node, the simulator program) run one at a time: two cores.</summary>
[CollectionDefinition("processes", DisableParallelization = true)]
public sealed class ProcessCollection
{
}
