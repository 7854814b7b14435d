using System.Net.Http.Headers;
using XcrCluster.Vhd;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Http;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Bench;

/// <summary>`xcr-bench simio`: the simulator's own data path over loopback HTTP with a plain HttpClient, so an
/// end-to-end benchmark knows what the test bed can take: the export of a synthetic disk read to nowhere, and
/// raw and VHD imports (the 60 %-random sample disk) into a fresh VDI on the file SR and on the null SR.</summary>
public static class SimIoBench
{
    /// <summary>Imports into the file SR should not be what bounds an end-to-end run: at least half the export.</summary>
    private const double FileGoal = 0.5;

    /// <summary>The null SR is the engine's ceiling: it must take at least 1 GB/s (issue 16's null SR goal).</summary>
    private const double NullGoalMBps = 1000;

    public static async Task RunAsync(BenchArgs args)
    {
        var fixture = Fixture.Default with
        {
            Srs = [new FixtureSr("file", 100L << 30), new FixtureSr("null", 100L << 30, Type: "null")],
            Vms = [new FixtureVm("source", Disks: [new FixtureDisk(args.SizeBytes, Fill: new DiskFill("synthetic", 7))])],
        };
        var options = new SimOptions { DataDir = args.Dir, Fixture = fixture, CollectorInterval = TimeSpan.Zero };
        try
        {
            await using var sim = await SimServer.StartAsync(options);
            var pool = sim.Pool;
            using var http = new HttpClient { BaseAddress = sim.Url, Timeout = Timeout.InfiniteTimeSpan };
            var session = await XapiBench.LoginAsync(http, options.User, options.Password);
            string source;
            lock (pool.Db.Sync)
            {
                source = pool.Db.All(Schemas.Vdi).Single(v => v.Str("name_label") == "source disk 0").Ref;
            }

            var disk = new SampleDisk(args.SizeBytes);
            var vhd = new MemoryStream(checked((int)VhdStreamWriter.ComputeLength(disk.Size, disk.Present.Count)));
            await disk.WriteVhdAsync(vhd);
            Console.Error.WriteLine($"xcr-bench simio: {args.SizeBytes >> 20} MiB disks; VHD upload {vhd.Length} bytes, raw {disk.Size}");

            var measure = new Measure(args.Runs);
            await measure.AddAsync("export (VHD) to nowhere", "sim", baseline: true, async () =>
            {
                using var response = await http.GetAsync($"/export_raw_vdi/?vdi={source}&format=vhd&session_id={session}",
                    HttpCompletionOption.ResponseHeadersRead);
                response.EnsureSuccessStatusCode();
                var sink = new CountingSink();
                await (await response.Content.ReadAsStreamAsync()).CopyToAsync(sink);
                return sink.Count;
            });
            foreach (var sr in new[] { "file", "null" })
            {
                await measure.AddAsync($"raw import, {sr} SR", "sim", baseline: false,
                    () => ImportAsync(http, pool, session, sr, disk.Size, "raw", new RawSampleStream(disk)));
                await measure.AddAsync($"VHD import, {sr} SR", "sim", baseline: false, () =>
                {
                    vhd.Position = 0;
                    return ImportAsync(http, pool, session, sr, disk.Size, "vhd", vhd);
                });
            }

            Console.WriteLine("## The simulator's data path (issue 16)");
            Console.WriteLine();
            Console.WriteLine($"Command: `bash bench/run.sh simio` ({args.SizeBytes >> 20} MiB disks over loopback HTTP with a plain "
                + "HttpClient; export: VHD of a synthetic disk read to nowhere; imports: raw and VHD of a disk with 60 % random blocks "
                + "into a fresh VDI).");
            Console.WriteLine();
            measure.Print(Console.Out);
            Console.WriteLine();
            var export = measure.MBps("export (VHD) to nowhere");
            foreach (var format in new[] { "raw", "VHD" })
            {
                var file = measure.MBps($"{format} import, file SR");
                Console.WriteLine($"- goal: {format} import into the file SR >= {FileGoal:F1} x the export "
                    + $"({file:F0} vs {export:F0} MB/s) — "
                    + (file >= FileGoal * export ? "met" : "missed"));
                var nul = measure.MBps($"{format} import, null SR");
                Console.WriteLine($"- goal: {format} import into the null SR >= {NullGoalMBps:F0} MB/s ({nul:F0} MB/s) — "
                    + (nul >= NullGoalMBps ? "met" : "missed"));
            }
        }
        finally
        {
            Directory.Delete(args.Dir, recursive: true);
        }
    }

    /// <summary>One import into a fresh VDI on the named SR, which is destroyed afterwards (the file SR would
    /// otherwise see an allocated disk on the next run).</summary>
    private static async Task<long> ImportAsync(HttpClient http, SimPool pool, string session, string srName, long size, string format,
        Stream body)
    {
        XapiObject vdi;
        lock (pool.Db.Sync)
        {
            var sr = pool.Db.All(Schemas.Sr).Single(s => s.Str("name_label") == srName);
            vdi = Vdis.Create(pool, new Dictionary<string, object?> { ["SR"] = sr.Ref, ["virtual_size"] = size, ["name_label"] = "bench" });
        }

        try
        {
            var length = format == "raw" ? size : body.Length;
            var content = new StreamContent(body, 1 << 20);
            content.Headers.ContentLength = length;
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var response = await http.PutAsync($"/import_raw_vdi/?vdi={vdi.Ref}&format={format}&session_id={session}", content);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
            return length;
        }
        finally
        {
            lock (pool.Db.Sync)
            {
                Vdis.Destroy(pool, vdi);
            }
        }
    }

    /// <summary>The sample disk's raw image generated on read (zeros where a block is absent), so no GiB buffer.</summary>
    private sealed class RawSampleStream(SampleDisk disk) : Stream
    {
        private readonly HashSet<int> present = disk.Present.ToHashSet();
        private long position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => disk.Size;

        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var index = (int)(position / VhdConstants.DefaultBlockSize);
            var within = (int)(position % VhdConstants.DefaultBlockSize);
            var n = (int)Math.Min(Math.Min(buffer.Length, VhdConstants.DefaultBlockSize - within), disk.Size - position);
            if (present.Contains(index))
            {
                disk.Block(index).Span.Slice(within, n).CopyTo(buffer);
            }
            else
            {
                buffer[..n].Clear();
            }

            position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
            => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct)
            => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
