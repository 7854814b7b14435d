using System.Security.Cryptography;
using Akka.Actor;
using Akka.Streams;
using XcrCluster.DataChannel;
using XcrCluster.Vhd;

namespace XcrCluster.Replication.Tests;

/// <summary>The run's graph with a network hop between its halves: one target imports locally, the other gets the
/// same blocks over the data channel into the same import sink on the far side; both receive identical disks.</summary>
public sealed class ChannelHopTests : IAsyncLifetime
{
    private readonly ActorSystem near = ActorSystem.Create("near", "akka.loglevel = WARNING");
    private readonly ActorSystem far = ActorSystem.Create("far", "akka.loglevel = WARNING");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await near.Terminate();
        await far.Terminate();
    }

    [Fact]
    public async Task A_target_across_the_data_channel_receives_what_a_local_target_receives()
    {
        const int blockSize = VhdConstants.DefaultBlockSize;
        var present = new List<int> { 0, 2, 3, 7 };
        var vhd = new MemoryStream();
        var writer = new VhdStreamWriter(vhd, 8L * blockSize, present);
        await writer.WriteHeadersAsync();
        foreach (var index in present)
        {
            var data = new byte[blockSize];
            if (index != 3)
            {
                new Random(index).NextBytes(data); // block 3 stays zero: elided on the wire, zeros on arrival
            }

            await writer.WriteBlockAsync(index, data);
        }

        await writer.CompleteAsync();
        vhd.Position = 0;

        await using var receiver = new ChannelReceiver(far.Materializer(), far.Log);
        await receiver.StartAsync(new TcpChannelTransport(far), "127.0.0.1", 0);
        var local = new MemoryStream();
        var remote = new MemoryStream();
        BlockFanOut.TargetSink[] targets =
        [
            shape => Task.FromResult(ImportSink.Create(shape, (writeBody, _, ct) => writeBody(local, ct), default)),
            shape =>
            {
                // The far node's agent expects the transfer and imports with the same sink; the near node sends.
                var ticket = receiver.Expect("disk-0", ImportSink.Create(shape, (writeBody, _, ct) => writeBody(remote, ct), default));
                return Task.FromResult(ChannelSender.Sink(new TcpChannelTransport(near), ticket).MapMaterializedValue(t => (Task)t));
            },
        ];

        var errors = await BlockFanOut.CopyAsync(vhd, targets, near.Materializer(), default);

        Assert.All(errors, Assert.Null);
        Assert.Equal(await BlocksAsync(local), await BlocksAsync(remote));
        Assert.Equal(present, (await BlocksAsync(remote)).Select(b => b.Index));
    }

    private static async Task<List<(int Index, string Hash)>> BlocksAsync(MemoryStream vhd)
    {
        vhd.Position = 0;
        var reader = await VhdStreamReader.OpenAsync(vhd);
        var blocks = new List<(int, string)>();
        while (await reader.ReadBlockAsync() is { } block)
        {
            blocks.Add((block.Index, Convert.ToHexString(SHA256.HashData(block.Data.Span))));
        }

        return blocks;
    }
}
