using Akka.Actor;
using Akka.Streams;
using XcrCluster.Replication;
using XcrCluster.Vhd;

namespace XcrCluster.Bench;

/// <summary>`xcr-bench fanout`: the run's block graph (VHD parse → broadcast → per-target VHD writer → pipe →
/// import) on an in-memory VHD stream, to one and to two targets that copy what they get into preallocated
/// memory, against a plain Stream.CopyTo of the same bytes into such memory. Bytes counted are bytes delivered.</summary>
public static class FanOutBench
{
    public static async Task RunAsync(BenchArgs args)
    {
        var disk = new SampleDisk(args.SizeBytes);
        var length = VhdStreamWriter.ComputeLength(disk.Size, disk.Present.Count);
        var image = new MemoryStream(checked((int)length));
        await disk.WriteVhdAsync(image);
        Console.Error.WriteLine($"xcr-bench fanout: {disk.Size >> 20} MiB disk, VHD stream {length} bytes");

        using var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
        var materializer = system.Materializer();
        var measure = new Measure(args.Runs);
        var memory = new[] { new MemoryStream(checked((int)length)), new MemoryStream(checked((int)length)) };
        await measure.AddAsync("plain Stream.CopyTo", "memory", baseline: true, async () =>
        {
            image.Position = memory[0].Position = 0;
            await image.CopyToAsync(memory[0]);
            return memory[0].Position;
        });
        foreach (var targets in new[] { 1, 2 })
        {
            await measure.AddAsync($"BlockFanOut to {targets} target{(targets > 1 ? "s" : "")}", "memory", baseline: false, async () =>
            {
                image.Position = 0;
                var sinks = memory.Take(targets).ToList();
                sinks.ForEach(m => m.Position = 0);
                var imports = sinks.Select(sink => (BlockFanOut.TargetSink)(shape => Task.FromResult(ImportSink.Create(shape, async (body, _, ct) => await body.CopyToAsync(sink, 1 << 20, ct), CancellationToken.None)))).ToList();
                var errors = await BlockFanOut.CopyAsync(image, imports, materializer, CancellationToken.None);
                if (errors.FirstOrDefault(e => e is not null) is { } error)
                {
                    throw error;
                }

                return sinks.Sum(s => s.Position);
            });
        }

        await system.Terminate();
        measure.Print(Console.Out);
    }
}
