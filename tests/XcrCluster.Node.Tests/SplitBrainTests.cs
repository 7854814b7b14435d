using System.Diagnostics;
using System.Text.Json.Nodes;

namespace XcrCluster.Node.Tests;

/// <summary>
/// The split brain resolver's decision (hocon/cluster.hocon: keep-oldest, down-if-alone, stable-after 20 s) when one of
/// three nodes is cut off: the oldest node is frozen (SIGSTOP: it neither answers nor sends, as behind a dropped link),
/// the two others mark it unreachable (failure detector, about 12 s), wait 20 s of stable membership, then down it and
/// keep serving; the control plane moves to the other control node. When the frozen node runs again it learns it was
/// downed and stops, rather than form a second cluster.
/// </summary>
public sealed class SplitBrainTests : IAsyncLifetime
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "xcr-sbr-" + Guid.NewGuid().ToString("N")[..12]);
    private PostgresServer postgres = null!;

    public async Task InitializeAsync() => postgres = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        await postgres.DisposeAsync();
        SimHost.DeleteDataDir(root);
    }

    [Fact]
    public async Task When_the_oldest_of_three_nodes_is_cut_off_the_two_others_down_it_and_keep_serving()
    {
        using var oldest = await NodeProcess.StartAsync(Dir("a"), "--roles", "control,pool-alpha", "--postgres", postgres.ConnectionString);
        using var control = await NodeProcess.JoinAsync(Dir("b"), Dir("a"), "control,pool-beta", "--postgres", postgres.ConnectionString);
        using var pools = await NodeProcess.JoinAsync(Dir("c"), Dir("a"), "pool-alpha,pool-beta");
        await Poll.UntilAsync(async () => Up(await control.GetAsync("/api/cluster")).Count == 3, "three members Up");
        var cutOff = NodeProcess.Endpoint(Dir("a"))["akka"];

        Signal("STOP", oldest.Process.ProgramPid);
        try
        {
            // Detection (about 12 s) + stable-after (20 s) + the removal's gossip: well within two minutes.
            await Poll.UntilAsync(async () => !Members(await control.GetAsync("/api/cluster")).Contains(cutOff),
                "the cut-off oldest node to be downed and removed", TimeSpan.FromMinutes(2));
            // The resolver says what it decided, on the remaining side's leader: down the unreachable (the cut-off node).
            var decision = (control.Process.Stderr + "\n" + pools.Process.Stderr).Split('\n')
                .FirstOrDefault(l => l.Contains("SBR took decision", StringComparison.Ordinal));
            Assert.True(decision is not null, "no SBR decision logged:\n" + control.Process.Stderr[^Math.Min(3000, control.Process.Stderr.Length)..]);
            Assert.Contains("DownUnreachable", decision);
            Assert.Contains(cutOff, decision);
            Assert.Equal(2, Up(await pools.GetAsync("/api/cluster")).Count);

            // The control plane answers again from the other control node (its singleton moved with the books in PostgreSQL).
            await Poll.UntilAsync(async () => (await control.Http.GetAsync("/api/pools")).IsSuccessStatusCode,
                "the control plane to answer on the remaining control node", TimeSpan.FromMinutes(1));
        }
        finally
        {
            Signal("CONT", oldest.Process.ProgramPid);
        }

        // Running again, the old node finds itself downed and stops instead of forming a cluster of its own.
        await oldest.Process.WaitForExitAsync();
        Assert.Equal(2, Members(await control.GetAsync("/api/cluster")).Count);
    }

    private string Dir(string name) => Path.Combine(root, name);

    private static List<string> Members(JsonNode cluster)
        => [.. cluster["members"]!.AsArray().Select(m => m!["address"]!.GetValue<string>())];

    private static List<string> Up(JsonNode cluster)
        => [.. cluster["members"]!.AsArray().Where(m => m!["status"]!.GetValue<string>() == "Up")
            .Select(m => m!["address"]!.GetValue<string>())];

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString()])!;
        kill.WaitForExit();
    }
}
