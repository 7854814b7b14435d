using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.Vhd;

namespace XcrCluster.DataChannel.Tests;

/// <summary>The deframer on chunks cut anywhere, with a slow consumer (completion must wait for held frames).</summary>
public sealed class DeframerTests : Akka.TestKit.Xunit2.TestKit
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public async Task Frames_cut_into_chunks_of_any_size_come_out_whole_even_for_a_slow_consumer(int chunk)
    {
        var blocks = Enumerable.Range(0, 5).Select(i => new VhdBlock(i, new byte[] { 1, 2, 3, (byte)i }, Enumerable.Range(0, 1000 + i).Select(b => (byte)(b * i + 1)).ToArray())).ToList();
        var wire = blocks.Select(Frames.EncodeBlock).Prepend(Frames.EncodeHello("id", "tok")).Append(Frames.EncodeEnd(5)).Aggregate(ByteString.Empty, (a, b) => a.Concat(b)).ToArray();
        var chunks = wire.Chunk(chunk).Select(c => ByteString.FromBytes(c));

        var frames = await Source.From(chunks).Via(new Deframer())
            .SelectAsync(1, async f =>
            {
                await Task.Delay(5);
                return f;
            })
            .RunWith(Sink.Seq<Frame>(), Sys.Materializer());

        Assert.Equal("HBBBBBE", new string(frames.Select(f => (char)f.Type).ToArray()));
        Assert.Equal(("id", "tok"), Frames.DecodeHello(frames[0].Payload));
        for (var i = 0; i < 5; i++)
        {
            var buffer = new byte[Frames.DecodedSize(frames[i + 1].Type, frames[i + 1].Payload)];
            var block = Frames.DecodeBlock(frames[i + 1].Type, frames[i + 1].Payload, buffer);
            Assert.Equal(blocks[i].Index, block.Index);
            Assert.Equal(blocks[i].Data.ToArray(), block.Data.ToArray());
            Assert.Equal(blocks[i].Bitmap.ToArray(), block.Bitmap.ToArray());
        }
    }

    [Fact]
    public async Task A_connection_ending_inside_a_frame_or_an_oversized_frame_fails_the_stream()
    {
        var frame = Frames.EncodeStatus("ok").ToArray();
        await Assert.ThrowsAsync<InvalidDataException>(() => Source.Single(ByteString.FromBytes(frame[..^1])).Via(new Deframer()).RunWith(Sink.Seq<Frame>(), Sys.Materializer()));
        var huge = new byte[5];
        Frames.WriteHeader(huge, Frames.Block, Frames.MaxPayload + 1);
        await Assert.ThrowsAsync<InvalidDataException>(() => Source.Single(ByteString.FromBytes(huge)).Via(new Deframer()).RunWith(Sink.Seq<Frame>(), Sys.Materializer()));
    }
}
