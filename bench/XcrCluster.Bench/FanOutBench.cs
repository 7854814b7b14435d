using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Replication;
using XcrCluster.Vhd;

namespace XcrCluster.Bench;

/// <summary>`xcr-bench fanout`: the run's block graph (VHD parse → broadcast → per-target VHD writer → pipe →
/// import) on an in-memory VHD stream, to one and to two targets that copy what they get into preallocated
/// memory, against a plain Stream.CopyTo of the same bytes into such memory; and to one target on another node
/// (a second actor system in this process, over the data channel on loopback, into the same import sink there).
/// Bytes counted are bytes delivered.</summary>
public static class FanOutBench
{
    /// <summary>The nodes' Akka IO TCP buffers (hocon/base.hocon).</summary>
    private const string Tcp = """
        akka.loglevel = WARNING
        akka.io.tcp { receive-buffer-size = 1m, send-buffer-size = 1m, maximum-frame-size = 512k }
        """;

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
                var imports = sinks.Select(sink => (BlockFanOut.TargetSink)(shape => Task.FromResult(
                    ImportSink.Create(shape, (writeBody, _, ct) => writeBody(sink, ct), CancellationToken.None)))).ToList();
                var errors = await BlockFanOut.CopyAsync(image, imports, materializer, CancellationToken.None);
                if (errors.FirstOrDefault(e => e is not null) is { } error)
                {
                    throw error;
                }

                return sinks.Sum(s => s.Position);
            });
        }

        using var far = ActorSystem.Create("far", Tcp);
        using var near = ActorSystem.Create("near", Tcp);
        await using (var receiver = new ChannelReceiver(far.Materializer(), far.Log))
        {
            await receiver.StartAsync(new TcpChannelTransport(far), "127.0.0.1", 0);
            await measure.AddAsync("BlockFanOut to 1 target across the data channel", "memory", baseline: false, async () =>
            {
                image.Position = memory[0].Position = 0;
                BlockFanOut.TargetSink remote = shape =>
                {
                    var ticket = receiver.Expect(Guid.NewGuid().ToString("N"),
                        ImportSink.Create(shape, (writeBody, _, ct) => writeBody(memory[0], ct),
                            CancellationToken.None));
                    return Task.FromResult(ChannelSender.Sink(new TcpChannelTransport(near), ticket).MapMaterializedValue(t => (Task)t));
                };
                var errors = await BlockFanOut.CopyAsync(image, [remote], near.Materializer(), CancellationToken.None);
                return errors[0] is { } error ? throw error : memory[0].Position;
            });
        }

        await far.Terminate();
        await near.Terminate();
        await system.Terminate();
        CaseNotes.FanOut.Print(measure.Print);
    }
}
