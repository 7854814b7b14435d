// One node, two simulated pools and a browser at a time: the suite shares two cores with the other lanes of .ci/test.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
