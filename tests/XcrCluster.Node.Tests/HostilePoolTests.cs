namespace XcrCluster.Node.Tests;

/// <summary>A "pool" that answers with a string that never ends: the node logs in before it stores a pool, reads at
/// most the client's reply cap (64 MiB), answers the request with an error naming the pool, and its memory stays bounded.</summary>
public sealed class HostilePoolTests
{
    [Fact]
    public async Task Registering_a_pool_whose_reply_never_ends_fails_naming_it_and_the_nodes_memory_stays_bounded()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "xcr-hostile-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            await using var hostile = HostileXapiServer.Start(_ => HostileReply.Endless());
            using var node = await NodeProcess.StartAsync(dataDir);
            await node.GetAsync("/api/pools"); // warmed up
            var before = node.ResidentBytes();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var refused = await node.PostAsync("/api/pools",
                new { name = "evil", url = hostile.Url.ToString(), username = "root", password = "x" }, 400);
            var error = refused["error"]!.GetValue<string>();
            Assert.Contains(hostile.Authority, error);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"answered after {watch.Elapsed}");
            var grown = node.ResidentBytes() - before;
            Assert.True(grown < 200L << 20,
                $"the node grew by {grown >> 20} MiB while the pool sent {hostile.BytesSent >> 20} MiB ({error})");
            Assert.Empty((await node.GetAsync("/api/pools")).AsArray());
        }
        finally
        {
            SimHost.DeleteDataDir(dataDir);
        }
    }
}
