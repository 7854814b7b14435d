namespace XcrCluster.Deploy.Tests;
