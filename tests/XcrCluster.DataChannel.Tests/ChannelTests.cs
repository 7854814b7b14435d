using System.Security.Cryptography;
using Akka;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.Vhd;

namespace XcrCluster.DataChannel.Tests;

/// <summary>The data channel over real loopback TCP: blocks arrive intact, zero blocks are elided on the wire,
/// tokens admit one connection only, backpressure crosses the socket, and a stalled receiver fails the sender.</summary>
public sealed class ChannelTests() : Akka.TestKit.Xunit2.TestKit(ChannelTestConfig.Hocon)
{
    private const int BlockData = 2 * 1024 * 1024;
    private const int Bitmap = 512;

    [Fact]
    public async Task Blocks_arrive_intact_and_zero_blocks_cost_only_their_header_on_the_wire()
    {
        await using var receiver = await StartReceiverAsync();
        var transport = new CountingTransport(new TcpChannelTransport(Sys));
        var received = new List<(int Index, string Hash)>();
        var ticket = receiver.Expect("t1", Sink.ForEach<PooledBlock>(b =>
        {
            received.Add((b.Block.Index, Hash(b.Block)));
            b.Release();
        }).MapMaterializedValue(t => (Task)t));

        var blocks = Enumerable.Range(0, 12).Select(i => Block(i, zero: i % 3 == 0)).ToList();
        var sent = await ChannelSender.SendAsync(transport, ticket, Source.From(blocks.Select(b => new PooledBlock(b, [], 1))),
            Sys.Materializer());

        Assert.Equal(12L * (BlockData + Bitmap), sent);
        Assert.Equal(blocks.Select(b => (b.Index, Hash(b))), received);
        var nonZero = 8L * (BlockData + Bitmap + 13);
        Assert.InRange(transport.BytesSent, nonZero, nonZero + 4 * (Bitmap + 17) + 200);
    }

    [Fact]
    public async Task With_lz4_compressible_blocks_shrink_on_the_wire_and_random_ones_go_as_they_are()
    {
        await using var receiver = await StartReceiverAsync();
        var transport = new CountingTransport(new TcpChannelTransport(Sys));
        var received = new List<string>();
        var ticket = receiver.Expect("lz4", Sink.ForEach<PooledBlock>(b =>
        {
            received.Add(Hash(b.Block));
            b.Release();
        }).MapMaterializedValue(t => (Task)t));

        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("a compressible guest file system block, ", 60000)));
        var compressible = new byte[Bitmap + BlockData];
        text.AsSpan(0, BlockData).CopyTo(compressible.AsSpan(Bitmap));
        VhdBlock[] blocks = [new(0, compressible.AsMemory(0, Bitmap), compressible.AsMemory(Bitmap)), Block(1)];
        await ChannelSender.SendAsync(transport, ticket, Source.From(blocks.Select(b => new PooledBlock(b, [], 1))), Sys.Materializer(),
            compress: true);

        Assert.Equal(blocks.Select(Hash), received);
        Assert.InRange(transport.BytesSent, BlockData + Bitmap, BlockData + Bitmap + BlockData / 10);
    }

    [Fact]
    public async Task A_wrong_or_reused_token_is_refused_and_logged()
    {
        await using var receiver = await StartReceiverAsync();
        var transport = new TcpChannelTransport(Sys);
        var ticket = receiver.Expect("t2", Sink.Ignore<PooledBlock>().MapMaterializedValue(t => (Task)t));

        var wrong = ticket with { Token = new string('0', 64) };
        await EventFilter.Warning(contains: "(transfer t2)").ExpectOneAsync(async () =>
        {
            var error = await Assert.ThrowsAsync<ChannelRefusedException>(
                () => ChannelSender.SendAsync(transport, wrong, Many(Block(0)), Sys.Materializer()));
            Assert.Contains("refused", error.Message);
        });

        // The stray connection did not break the transfer: the real sender gets in once, a replay does not.
        await ChannelSender.SendAsync(transport, ticket, Source.Single(new PooledBlock(Block(1), [], 1)), Sys.Materializer());
        await EventFilter.Warning(contains: "(transfer t2)").ExpectOneAsync(() =>
            Assert.ThrowsAsync<ChannelRefusedException>(
                () => ChannelSender.SendAsync(transport, ticket, Many(Block(1)), Sys.Materializer())));
        Assert.DoesNotContain(ticket.Token, ticket.ToString());
    }

    /// <summary>More blocks than the sockets' buffers hold: a sender that wrote them before its token was accepted would
    /// find its connection reset by the refusing receiver, the refusal lost.</summary>
    private static Source<PooledBlock, NotUsed> Many(VhdBlock block)
        => Source.From(Enumerable.Range(0, 32)).Select(i => new PooledBlock(block with { Index = i }, [], 1));

    [Fact]
    public async Task A_slow_receiver_holds_the_sender_back_across_the_socket()
    {
        await using var receiver = await StartReceiverAsync();
        long produced = 0, consumed = 0, maxAhead = 0;
        var ticket = receiver.Expect("t4", Flow.Create<PooledBlock>().SelectAsync(1, async b =>
        {
            await Task.Delay(20);
            b.Release();
            var ahead = Interlocked.Read(ref produced) - Interlocked.Increment(ref consumed);
            InterlockedMax(ref maxAhead, ahead);
            return NotUsed.Instance;
        }).ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Right).MapMaterializedValue(t => (Task)t));

        var block = Block(7);
        var source = Source.From(Enumerable.Range(0, 60)).Select(i =>
        {
            Interlocked.Increment(ref produced);
            return new PooledBlock(block with { Index = i }, [], 1);
        });
        await ChannelSender.SendAsync(new TcpChannelTransport(Sys), ticket, source, Sys.Materializer());

        Assert.Equal(60, consumed);
        Assert.InRange(maxAhead, 0, 16); // socket buffers and a few stage buffers, never the whole transfer
    }

    [Fact]
    public async Task A_receiver_that_stops_taking_blocks_fails_the_sender_within_the_stall_timeout()
    {
        await using var receiver = await StartReceiverAsync();
        var never = new TaskCompletionSource<NotUsed>();
        var ticket =
            receiver.Expect("t5", Flow.Create<PooledBlock>().SelectAsync(1, _ => never.Task)
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Right).MapMaterializedValue(t => (Task)t));
        var block = Block(3);
        var endless = Source.Repeat(0).Select(_ => new PooledBlock(block, [], 1));
        await Assert.ThrowsAnyAsync<TimeoutException>(
            () => ChannelSender.SendAsync(new TcpChannelTransport(Sys), ticket, endless, Sys.Materializer(),
            stallTimeout: TimeSpan.FromSeconds(2)));
    }

    private async Task<ChannelReceiver> StartReceiverAsync()
    {
        var receiver = new ChannelReceiver(Sys.Materializer(), Sys.Log);
        await receiver.StartAsync(new TcpChannelTransport(Sys), "127.0.0.1", 0);
        return receiver;
    }

    private static VhdBlock Block(int index, bool zero = false)
    {
        var buffer = new byte[Bitmap + BlockData];
        buffer.AsSpan(0, Bitmap).Fill(0xFF);
        if (!zero)
        {
            new Random(index).NextBytes(buffer.AsSpan(Bitmap));
        }

        return new VhdBlock(index, buffer.AsMemory(0, Bitmap), buffer.AsMemory(Bitmap));
    }

    private static string Hash(VhdBlock block) => Convert.ToHexString(SHA256.HashData([.. block.Bitmap.Span, .. block.Data.Span]));

    private static void InterlockedMax(ref long target, long value)
    {
        for (var seen = Interlocked.Read(ref target); value > seen; seen = Interlocked.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }

    /// <summary>Counts what a sender puts on the wire.</summary>
    private sealed class CountingTransport(IChannelTransport inner) : IChannelTransport
    {
        private long sent;

        public long BytesSent => Interlocked.Read(ref sent);

        public Task<IChannelBinding> BindAsync(string host, int port, ChannelListener listener, IMaterializer materializer)
            => inner.BindAsync(host, port, listener, materializer);

        public Flow<ByteString, ByteString, NotUsed> Connect(string host, int port)
            => Flow.Create<ByteString>().Select(b =>
            {
                Interlocked.Add(ref sent, b.Count);
                return b;
            }).Via(inner.Connect(host, port));
    }
}
