using System.Net;
using System.Text.RegularExpressions;

namespace XcrCluster.Node.Tests;

/// <summary>A real node's data port against strangers: connections announcing huge frames before any token cost
/// the node no memory and are refused in its log; the node's limits (--data-max-connections,
/// --data-handshake-timeout) act.</summary>
public sealed class DataChannelGuardTests : IDisposable
{
    private const int Strangers = 20;
    private const int Announced = 32 * 1024 * 1024;
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "xcr-node-guard-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose() => SimHost.DeleteDataDir(dataDir);

    [Fact]
    public async Task Twenty_strangers_announcing_32_MiB_frames_raise_the_nodes_memory_by_less_than_20_MB_and_are_refused()
    {
        using var node = await NodeProcess.StartAsync(dataDir, "--data-max-connections", "24", "--data-handshake-timeout", "3");
        var data = IPEndPoint.Parse(NodeProcess.Endpoint(dataDir)["data"]);
        var bulk = new byte[8 * 1024 * 1024]; // sent after each header: what the node would copy if it buffered toward 32 MiB
        new Random(7).NextBytes(bulk);

        // Warmed up: the refusal path has run and the API answered before the first reading.
        var hello = "nobody\nnone"u8.ToArray();
        for (var i = 0; i < 3; i++)
        {
            using var warm = await RawPeer.ConnectAsync(data);
            Assert.True(await warm.TrySendAsync([.. RawPeer.Header('H', hello.Length), .. hello], TimeSpan.FromSeconds(10)));
            Assert.True(await warm.ClosedWithinAsync(TimeSpan.FromSeconds(10)), "a warm-up connection stayed open");
        }

        await Poll.UntilAsync(() => Refusals(node, "no such transfer expected") == 3, "3 warm-up refusals in the node's log",
            TimeSpan.FromSeconds(20));
        await node.GetAsync("/api/node");
        var before = ResidentBytes(node);

        var strangers = new List<RawPeer>();
        try
        {
            for (var i = 0; i < Strangers; i++)
            {
                strangers.Add(await RawPeer.ConnectAsync(data));
            }

            byte[] frame = [.. RawPeer.Header('B', Announced), .. bulk];
            await Task.WhenAll(strangers.Select(s => s.TrySendAsync(frame, TimeSpan.FromSeconds(20))));
            var closed = await Task.WhenAll(strangers.Select(s => s.ClosedWithinAsync(TimeSpan.FromSeconds(10))));
            var after = ResidentBytes(node);
            Assert.True(after - before < 20 * 1024 * 1024, $"the node's RSS went from {before >> 20} MiB to {after >> 20} MiB");
            Assert.All(closed, Assert.True);
            await Poll.UntilAsync(() => Refusals(node, "first frame of 33554432 bytes announced, more than a hello's 4096") == Strangers,
                $"{Strangers} refusals in the node's log:\n{node.Process.Stderr}", TimeSpan.FromSeconds(20));
        }
        finally
        {
            strangers.ForEach(s => s.Dispose());
        }

        await The_connection_limit_and_the_handshake_timeout_act(node, data);
    }

    /// <summary>25 silent connections: 24 fill the node's slots (--data-max-connections 24), the one it accepts last
    /// (accepts complete in any order) is closed at once; the others are closed after 3 s (--data-handshake-timeout
    /// 3), not the default 10.</summary>
    private static async Task The_connection_limit_and_the_handshake_timeout_act(NodeProcess node, IPEndPoint data)
    {
        var silent = new List<RawPeer>();
        try
        {
            for (var i = 0; i < 25; i++)
            {
                silent.Add(await RawPeer.ConnectAsync(data));
            }

            var opened = System.Diagnostics.Stopwatch.StartNew();
            var early = await Task.WhenAll(silent.Select(s => s.ClosedWithinAsync(TimeSpan.FromSeconds(2))));
            var atOnce = early.Count(closed => closed);
            Assert.True(atOnce == 1, $"{atOnce} of 25 connections closed at once, 1 expected:\n{node.Process.Stderr}");
            await Poll.UntilAsync(() => Refusals(node, "24 connections open already") == 1, "the refusal beyond the limit in the log",
                TimeSpan.FromSeconds(10));

            var late = await Task.WhenAll(silent.Where((_, i) => !early[i]).Select(s => s.ClosedWithinAsync(TimeSpan.FromSeconds(20))));
            Assert.All(late, Assert.True);
            Assert.InRange(opened.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(7)); // 3 s after they opened, not the default 10
            await Poll.UntilAsync(() => Refusals(node, "no hello within 3 s") == 24, "24 handshake timeouts in the node's log",
                TimeSpan.FromSeconds(10));
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }
    }

    private static int Refusals(NodeProcess node, string reason)
        => Regex.Matches(node.Process.Stderr, @"refused a connection from 127\.0\.0\.1:\d+\b.*" + Regex.Escape(reason)).Count;

    private static long ResidentBytes(NodeProcess node) => node.ResidentBytes();
}
