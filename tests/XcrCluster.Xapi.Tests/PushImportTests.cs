using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Tests;

/// <summary>An import whose body the caller writes onto the request stream: the caller's own buffers reach the
/// connection (no copy of the client's in between), the length is exact, progress counts what was written, and a
/// peer that stops reading still fails with the stall timeout's error.</summary>
public sealed class PushImportTests
{
    private const int Block = 2 << 20;

    [Fact]
    public async Task The_callers_buffers_reach_the_connection_as_they_are_and_the_content_lands()
    {
        await using var sim = await ClientPools.StartAsync();
        var written = new ConcurrentBag<byte[]>();
        await using var client = await ClientPools.ConnectAsync(sim, new XapiClientOptions
        {
            ConnectionWrapper = stream => new RecordingStream(stream, written),
        });
        var target = await NewDiskAsync(client, 2L * Block);
        byte[][] blocks = [new byte[Block], new byte[Block]];
        new Random(5).NextBytes(blocks[0]);
        new Random(6).NextBytes(blocks[1]);
        long progress = 0;

        await client.ImportVdiAsync(target, async (body, ct) =>
        {
            foreach (var block in blocks)
            {
                await body.WriteAsync(block, ct);
            }
        }, 2L * Block, VdiFormat.Raw, p => progress = p);

        Assert.All(blocks, block => Assert.Contains(written, array => ReferenceEquals(array, block)));
        Assert.Equal(2L * Block, progress);
        await using var back = await client.ExportVdiAsync(target, VdiFormat.Raw);
        using var content = new MemoryStream();
        await back.Content.CopyToAsync(content);
        await back.CompleteAsync();
        Assert.Equal(blocks[0].Concat(blocks[1]), content.ToArray());
    }

    [Fact]
    public async Task A_peer_that_stops_reading_a_pushed_body_fails_it_with_the_stall_timeout()
    {
        await using var sim = await ClientPools.StartAsync();
        sim.Pool.Faults.ImportBytesPerSecond = 1;
        await using var client = await ClientPools.ConnectAsync(sim, new XapiClientOptions { StallTimeout = TimeSpan.FromSeconds(1) });
        var target = await NewDiskAsync(client, 8L * Block);
        var block = new byte[Block];

        var e = await Assert.ThrowsAsync<TimeoutException>(() => client.ImportVdiAsync(target, async (body, ct) =>
        {
            for (var i = 0; i < 8; i++)
            {
                await body.WriteAsync(block, ct);
            }
        }, 8L * Block, VdiFormat.Raw).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"import into VDI {target}: no data moved for 1 s", e.Message);
    }

    private static async Task<string> NewDiskAsync(XapiClient client, long size)
    {
        var sr = (await client.GetAllRecordsAsync<SrRecord>()).First();
        return (string)(await client.CallAsync("VDI.create", new Dictionary<string, object?>
        {
            ["SR"] = sr.Ref, ["virtual_size"] = size, ["name_label"] = "push", ["type"] = "user", ["sharable"] = false,
            ["read_only"] = false, ["other_config"] = new Dictionary<string, object?>(),
        }))!;
    }

    /// <summary>A connection that records the arrays handed to its writes (what the HTTP stack passes on as it is).</summary>
    private sealed class RecordingStream(Stream inner, ConcurrentBag<byte[]> written) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => inner.ReadAsync(buffer, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (MemoryMarshal.TryGetArray(buffer, out var segment) && segment.Array is { } array)
            {
                written.Add(array);
            }

            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            written.Add(buffer);
            inner.Write(buffer, offset, count);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
