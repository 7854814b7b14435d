// One cluster at a time: each scenario's waits are bounded by the failure detector's and the split brain resolver's
// timings (ThreeNodeCluster.FailoverLimit), which three clusters of 3 nodes each on a 2-core machine would stretch.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
