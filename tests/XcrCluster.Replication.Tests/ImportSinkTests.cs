using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Vhd;

namespace XcrCluster.Replication.Tests;

/// <summary>An import sink opens its import (XAPI task and HTTP request) when its stream starts: a sink made and
/// never run, or whose stream fails before the first block, opens none; a run opens exactly one, with the exact
/// length. The body is written from each block's own buffer, and every block the sink took goes back exactly once
/// (the test pool logs what comes back).</summary>
public sealed class ImportSinkTests : IAsyncLifetime
{
    private const int BlockSize = VhdConstants.DefaultBlockSize;
    private readonly ActorSystem system = ActorSystem.Create("import-sink", "akka.loglevel = WARNING");
    private readonly ReturnLog pool = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await system.Terminate();

    [Fact]
    public async Task The_import_opens_with_the_first_block_not_when_the_sink_is_made()
    {
        var shape = new VhdShape(4L * BlockSize, [0, 2], null, BlockSize);
        var opened = 0;
        var imported = new MemoryStream();
        ImportSink.ImportAsync import = async (writeBody, length, ct) =>
        {
            Interlocked.Increment(ref opened);
            await writeBody(imported, ct);
            Assert.Equal(length, imported.Length);
        };

        _ = ImportSink.Create(shape, import, default); // made, never run (a ticket nobody used)
        var failed = ImportSink.Create(shape, import, default);
        var error = await Assert.ThrowsAsync<IOException>(
            () => Source.Failed<PooledBlock>(new IOException("export failed")).RunWith(failed, system.Materializer()));
        Assert.Equal("export failed", error.Message);
        Assert.Equal(0, Volatile.Read(ref opened)); // the failed sink's task ends after its import would have

        var blocks = shape.PresentBlocks.Select(i => new PooledBlock(new VhdBlock(i, new byte[512], new byte[BlockSize]), [], 1));
        await Source.From(blocks).RunWith(ImportSink.Create(shape, import, default), system.Materializer());
        Assert.Equal(1, opened);
        Assert.Equal(new VhdStreamWriter(Stream.Null, shape.VirtualSize, shape.PresentBlocks, null, BlockSize).Length, imported.Length);
    }

    [Fact]
    public async Task A_disk_without_blocks_is_still_imported_at_the_end_of_its_stream()
    {
        var shape = new VhdShape(4L * BlockSize, [], null, BlockSize);
        var lengths = new List<long>();
        await Source.Empty<PooledBlock>().RunWith(ImportSink.Create(shape, async (writeBody, length, ct) =>
        {
            var copy = new MemoryStream();
            await writeBody(copy, ct);
            lengths.Add(copy.Length);
            Assert.Equal(length, copy.Length);
        }, default), system.Materializer());
        Assert.Single(lengths);
    }

    [Fact]
    public async Task The_body_is_written_from_each_blocks_own_buffer_which_goes_back_once_written()
    {
        var shape = new VhdShape(6L * BlockSize, [0, 2, 5], null, BlockSize);
        var blocks = shape.PresentBlocks.Select(Block).ToList();
        var body = new RecordingStream(pool);

        await Source.From(blocks).RunWith(ImportSink.Create(shape, (writeBody, _, ct) => writeBody(body, ct), default),
            system.Materializer());

        var buffers = blocks.Select(b => Buffer(b.Block)).ToList();
        var bitmapSize = SectorBitmap.SizeFor(BlockSize);
        Assert.All(buffers, buffer => Assert.Contains((buffer, bitmapSize, BlockSize), body.Written)); // the data itself
        Assert.All(buffers, buffer => Assert.Contains((buffer, 0, bitmapSize), body.Written)); // and its bitmap
        Assert.Empty(body.WrittenAfterReturn);
        EachReturnedOnce(buffers);
        body.Position = 0;
        var reader = await VhdStreamReader.OpenAsync(body);
        foreach (var block in blocks)
        {
            var read = await reader.ReadBlockAsync();
            Assert.Equal(block.Block.Index, read!.Value.Index);
            Assert.True(read.Value.Data.Span.SequenceEqual(block.Block.Data.Span));
        }
    }

    [Fact]
    public async Task An_import_refused_before_its_body_gives_back_every_block_the_sink_took_exactly_once()
    {
        var shape = new VhdShape(16L * BlockSize, [.. Enumerable.Range(0, 16)], null, BlockSize);
        var taken = new ConcurrentBag<byte[]>();
        var blocks = Source.From(shape.PresentBlocks).Select(i =>
        {
            var block = Block(i);
            taken.Add(Buffer(block.Block));
            return block;
        });

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => blocks.RunWith(ImportSink.Create(shape,
            (_, _, _) => throw new HttpRequestException("import refused"), default), system.Materializer()));

        Assert.Equal("import refused", e.Message);
        Assert.NotEmpty(taken);
        EachReturnedOnce([.. taken]);
    }

    /// <summary>The pool got back exactly these buffers, each once.</summary>
    private void EachReturnedOnce(IReadOnlyList<byte[]> buffers)
    {
        Assert.Equal(buffers.Count, pool.Returned.Count);
        Assert.All(buffers, buffer => Assert.Single(pool.Returned, returned => ReferenceEquals(returned, buffer)));
    }

    private static byte[] Buffer(VhdBlock block) => MemoryMarshal.TryGetArray(block.Data, out var segment) ? segment.Array! : [];

    /// <summary>A block in one buffer (bitmap, then data) rented from the test's pool, as the export reader makes them.</summary>
    private PooledBlock Block(int index)
    {
        var bitmapSize = SectorBitmap.SizeFor(BlockSize);
        var buffer = pool.Rent(bitmapSize + BlockSize);
        new Random(index).NextBytes(buffer);
        var block = new VhdBlock(index, buffer.AsMemory(0, bitmapSize), buffer.AsMemory(bitmapSize, BlockSize));
        return new PooledBlock(block, buffer, 1, pool);
    }

    /// <summary>A pool that hands out fresh arrays and logs what comes back.</summary>
    private sealed class ReturnLog : ArrayPool<byte>
    {
        public ConcurrentQueue<byte[]> Returned { get; } = new();

        public override byte[] Rent(int minimumLength) => new byte[minimumLength];

        public override void Return(byte[] array, bool clearArray = false) => Returned.Enqueue(array);
    }

    /// <summary>The import's request stream: keeps the bytes and logs the arrays it was handed (and any handed after
    /// they went back to the pool).</summary>
    private sealed class RecordingStream(ReturnLog pool) : MemoryStream
    {
        public List<(byte[] Array, int Offset, int Count)> Written { get; } = [];

        public List<byte[]> WrittenAfterReturn { get; } = [];

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (MemoryMarshal.TryGetArray(buffer, out var segment) && segment.Array is { } array)
            {
                Written.Add((array, segment.Offset, segment.Count));
                if (pool.Returned.Contains(array))
                {
                    WrittenAfterReturn.Add(array);
                }
            }

            return base.WriteAsync(buffer, cancellationToken);
        }
    }
}
