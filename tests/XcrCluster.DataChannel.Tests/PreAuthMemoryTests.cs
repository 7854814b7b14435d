using System.Text.RegularExpressions;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace XcrCluster.DataChannel.Tests;

/// <summary>Measures the whole process's allocations: runs alone, never beside the other tests.</summary>
[CollectionDefinition(nameof(PreAuthMemoryTests), DisableParallelization = true)]
public sealed class AloneCollection;

/// <summary>A peer that has not shown a valid token makes the receiver buffer nothing larger than a hello: a
/// first frame announcing more is refused at its header, and the frame after a refused hello is never started.</summary>
[Collection(nameof(PreAuthMemoryTests))]
public sealed class PreAuthMemoryTests() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = WARNING")
{
    private const int Announced = 32 * 1024 * 1024;
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_large_frame_before_the_token_is_accepted_is_refused_without_allocating_its_size()
    {
        await using var receiver = new ChannelReceiver(Sys.Materializer(), Sys.Log);
        await receiver.StartAsync(new TcpChannelTransport(Sys), "127.0.0.1", 0);
        receiver.Expect("real-1", Sink.Ignore<PooledBlock>().MapMaterializedValue(t => (Task)t));
        var bulk = new byte[256 * 1024];
        await RefusedAsync(receiver, Frames.EncodeHello("nobody", "none").ToArray(), "unknown transfer"); // warms the path up

        byte[] oversizedFirst = [.. RawPeer.Header('B', Announced), .. bulk];
        byte[] afterWrongHello = [.. Frames.EncodeHello("real-1", new string('0', 64)).ToArray(), .. oversizedFirst];
        var oversized = new Regex(@"refused a connection from 127\.0\.0\.1:\d+: "
            + "a first frame of 33554432 bytes announced, more than a hello's 4096: refused");

        var before = GC.GetTotalAllocatedBytes(precise: true);
        await EventFilter.Warning(oversized).ExpectOneAsync(() => RefusedAsync(receiver, oversizedFirst, "an oversized first frame"));
        await EventFilter.Warning(contains: "(transfer real-1): wrong token")
            .ExpectOneAsync(() => RefusedAsync(receiver, afterWrongHello, "a frame after a wrong hello"));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(allocated < 16 * 1024 * 1024, $"{allocated >> 20} MiB allocated; each refused frame alone would be 32 MiB");
        Assert.Equal(0L, receiver.Received.Transfers);
        Assert.True(receiver.Forget("real-1"), "the stray connections took the transfer"); // still expected
    }

    private static async Task RefusedAsync(ChannelReceiver receiver, byte[] bytes, string what)
    {
        using var peer = await RawPeer.ConnectAsync(receiver.Endpoint);
        _ = await peer.TrySendAsync(bytes, Soon); // the receiver may close before all is sent
        Assert.True(await peer.ClosedWithinAsync(Soon), what + ": the connection stayed open");
    }
}
