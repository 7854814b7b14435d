using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Vhd;

namespace XcrCluster.Replication.Tests;

/// <summary>An import sink opens its import (XAPI task and HTTP request) when its stream starts: a sink made and
/// never run, or whose stream fails before the first block, opens none; a run opens exactly one, with the exact
/// length. The body is written from each block's own buffer, and every block the sink took goes back exactly once
/// (ImportSinkCopyTests).</summary>
public sealed class ImportSinkTests : IAsyncLifetime
{
    private const int BlockSize = VhdConstants.DefaultBlockSize;
    private readonly ActorSystem system = ActorSystem.Create("import-sink", "akka.loglevel = WARNING");

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
}
