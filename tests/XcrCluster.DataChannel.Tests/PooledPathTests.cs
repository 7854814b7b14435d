using System.Security.Cryptography;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.Vhd;

namespace XcrCluster.DataChannel.Tests;

/// <summary>Blocks stay pooled across the channel: the sender gives each block back once its frame is on the
/// socket (and a buffer reused at once still arrives intact), the receiver decodes a block frame in the frame's own
/// buffer (one buffer per block, no second one), and every buffer goes back to its pool. A transfer that fails
/// half-way leaves no ticket behind.</summary>
public sealed class PooledPathTests() : Akka.TestKit.Xunit2.TestKit(ChannelTestConfig.Hocon)
{
    private const int BlockData = 256 * 1024;
    private const int Bitmap = 512;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_sender_gives_each_block_back_once_written_and_buffers_reused_at_once_arrive_intact(bool tls)
    {
        using var certificate = TlsTests.SelfSigned("receiver.xcr");
        var pin = TlsChannelTransport.Fingerprint(certificate);
        var transport = tls ? new TlsChannelTransport(null, pin) : (IChannelTransport)new TcpChannelTransport(Sys);
        await using var receiver = new ChannelReceiver(Sys.Materializer(), Sys.Log);
        await receiver.StartAsync(tls ? new TlsChannelTransport(certificate, pin) : new TcpChannelTransport(Sys), "127.0.0.1", 0);
        var received = new List<(int, string)>();
        var ticket = receiver.Expect("pooled", Sink.ForEach<PooledBlock>(b =>
        {
            received.Add((b.Block.Index, Hash(b.Block)));
            b.Release();
        }).MapMaterializedValue(t => (Task)t));

        // The source runs ahead (its own async island and a buffer) and rents from a small pool, refilling what comes
        // back: a block given back before the socket had its bytes would be overwritten by a later block and arrive
        // changed.
        const int count = 64;
        var pool = new CountingPool();
        var blocks = Source.From(Enumerable.Range(0, count)).Select(i =>
        {
            var buffer = pool.Rent(Bitmap + BlockData);
            Fill(buffer.AsSpan(0, Bitmap + BlockData), i);
            return new PooledBlock(new VhdBlock(i, buffer.AsMemory(0, Bitmap), buffer.AsMemory(Bitmap, BlockData)), buffer, 1, pool);
        }).Async().Buffer(8, OverflowStrategy.Backpressure);

        await ChannelSender.SendAsync(transport, ticket, blocks, Sys.Materializer());

        Assert.Equal(Enumerable.Range(0, count).Select(i => (i, Expected(i))), received);
        Assert.Equal(count, pool.Rented);
        Assert.Equal(count, pool.Returned);
    }

    [Fact]
    public async Task The_receiver_decodes_block_frames_in_their_own_buffer_and_gives_every_buffer_back()
    {
        var pool = new CountingPool();
        await using var receiver = await StartReceiverAsync(pool);
        var received = new List<(int, string)>();
        var ticket = receiver.Expect("in-place", Sink.ForEach<PooledBlock>(b =>
        {
            received.Add((b.Block.Index, Hash(b.Block)));
            b.Release();
        }).MapMaterializedValue(t => (Task)t));

        // Random (a B frame), zero (Z), compressible (C, with LZ4 on), random again.
        var compressible = new byte[Bitmap + BlockData];
        System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("a guest's log line, compressible. ", 8000)))
            .AsSpan(0, compressible.Length).CopyTo(compressible);
        VhdBlock[] blocks =
        [
            Block(0), new(1, new byte[Bitmap], new byte[BlockData]),
            new(2, compressible.AsMemory(0, Bitmap), compressible.AsMemory(Bitmap)), Block(3),
        ];
        await ChannelSender.SendAsync(new TcpChannelTransport(Sys), ticket, Source.From(blocks.Select(b => new PooledBlock(b, [], 1))),
            Sys.Materializer(), compress: true);

        Assert.Equal(blocks.Select(b => (b.Index, Hash(b))), received);
        // One buffer per frame (hello, four blocks, end) and one more only to decompress the C frame into.
        Assert.Equal(1 + blocks.Length + 1 + 1, pool.Rented);
        Assert.Equal(pool.Rented, pool.Returned);
    }

    [Fact]
    public async Task A_transfer_failing_while_it_sends_leaves_no_ticket_and_fails_its_sink()
    {
        await using var receiver = await StartReceiverAsync();
        var taken = 0;
        var twoTaken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sinkDone = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ticket = receiver.Expect("fails", Sink.ForEach<PooledBlock>(b =>
        {
            if (++taken == 2)
            {
                twoTaken.TrySetResult();
            }

            b.Release();
        }).MapMaterializedValue(t =>
        {
            sinkDone.TrySetResult(t);
            return (Task)t;
        }));
        Assert.Equal(1, receiver.Waiting);

        // The export breaks once the receiver took two blocks (so it has used the ticket: a sender failing before its hello
        // got through would leave the ticket to its session's rollback instead).
        var blocks = Source.From(Enumerable.Range(0, 3)).SelectAsync(1, async i =>
        {
            if (i < 2)
            {
                return new PooledBlock(Block(i), [], 1);
            }

            await twoTaken.Task.WaitAsync(TimeSpan.FromSeconds(30));
            throw new IOException("the export broke");
        });
        await Assert.ThrowsAnyAsync<Exception>(
            () => ChannelSender.SendAsync(new TcpChannelTransport(Sys), ticket, blocks, Sys.Materializer()));

        Assert.Equal(0, receiver.Waiting); // used, so gone: no token of the failed run admits anyone
        await Assert.ThrowsAnyAsync<Exception>(async () => await await sinkDone.Task);
        Assert.Equal(2, taken);
    }

    private async Task<ChannelReceiver> StartReceiverAsync(CountingPool? pool = null)
    {
        var receiver = new ChannelReceiver(Sys.Materializer(), Sys.Log) { BufferPool = pool ?? System.Buffers.ArrayPool<byte>.Shared };
        await receiver.StartAsync(new TcpChannelTransport(Sys), "127.0.0.1", 0);
        return receiver;
    }

    private static VhdBlock Block(int index)
    {
        var buffer = new byte[Bitmap + BlockData];
        Fill(buffer, index);
        return new VhdBlock(index, buffer.AsMemory(0, Bitmap), buffer.AsMemory(Bitmap));
    }

    private static void Fill(Span<byte> buffer, int seed) => new Random(seed).NextBytes(buffer);

    private static string Expected(int index) => Hash(Block(index));

    private static string Hash(VhdBlock block) => Convert.ToHexString(SHA256.HashData([.. block.Bitmap.Span, .. block.Data.Span]));
}
