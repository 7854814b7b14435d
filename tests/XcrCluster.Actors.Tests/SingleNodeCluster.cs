namespace XcrCluster.Actors.Tests;

/// <summary>The configuration of a test's actor system that is a cluster of one node serving every pool (`pool-all`), with
/// in-memory persistence.</summary>
internal static class SingleNodeCluster
{
    public const string Config = """
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.cluster.roles = ["pool-all"]
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        akka.loglevel = WARNING
        """;
}
