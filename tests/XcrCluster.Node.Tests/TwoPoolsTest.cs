namespace XcrCluster.Node.Tests;

/// <summary>What node process tests over two pools share: pools alpha and beta (simulators in this process) started before
/// each test and stopped after it, and the nodes' data directories, deleted after it.</summary>
public abstract class TwoPoolsTest : IAsyncLifetime
{
    private readonly List<string> dirs = [];

#pragma warning disable SA1401, CA1051 // the tests read and replace the pools as plain fields
    protected SimHost alpha = null!;
    protected SimHost beta = null!;
#pragma warning restore SA1401, CA1051

    public async Task InitializeAsync()
    {
        alpha = await SimHost.StartAsync(o => o with { PoolName = "alpha" });
        beta = await SimHost.StartAsync(o => o with { PoolName = "beta" });
    }

    public async Task DisposeAsync()
    {
        await alpha.DisposeAsync();
        await beta.DisposeAsync();
        foreach (var dir in dirs)
        {
            SimHost.DeleteDataDir(dir);
        }
    }

    /// <summary>A fresh data directory path for a node of this test (made by the node), deleted after the test.</summary>
    protected string DataDir(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..10]);
        dirs.Add(dir);
        return dir;
    }

    /// <summary>The names of a pool's objects of a class (VMs by default), sorted: what a person would see.</summary>
    protected static async Task<List<string>> VmNamesAsync(SimHost sim, string cls = "VM")
    {
        using var rpc = sim.Json();
        await rpc.LoginAsync();
        return [.. (await rpc.AllRecordsAsync(cls)).Values.Select(r => (string)r["name_label"]!).Order()];
    }
}
