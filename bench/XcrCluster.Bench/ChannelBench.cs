using System.Net;
using System.Net.Sockets;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Vhd;

namespace XcrCluster.Bench;

/// <summary>
/// `xcr-bench channel`: 2 MiB VHD blocks from one actor system to another over loopback, both in this process:
/// a raw socket copy of the same frames (the baseline), our data channel (Akka.Streams TCP) with and without LZ4
/// on random and on compressible data, and Akka.Remote StreamRefs of byte[] (a quarter of the bytes: it is slow).
/// The channel's blocks come in pooled buffers, as the run's export reader makes them.
/// </summary>
public static class ChannelBench
{
    private const int BlockData = 2 * 1024 * 1024;
    private const int Bitmap = 512;

    private const string Hocon = """
        akka {
          loglevel = WARNING
          actor.provider = remote
          remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0, maximum-frame-size = 4MiB, send-buffer-size = 4MiB, receive-buffer-size = 4MiB }
          io.tcp { receive-buffer-size = 1m, send-buffer-size = 1m, maximum-frame-size = 512k }
          stream.materializer.stream-ref.subscription-timeout = 30s
        }
        """;

    public static async Task RunAsync(BenchArgs args)
    {
        var count = (int)(args.SizeBytes / BlockData);
        var random = Block(compressible: false);
        var text = Block(compressible: true);
        Console.Error.WriteLine($"xcr-bench channel: {count} blocks of 2 MiB per case; on the wire with LZ4: random {Frames.EncodeBlock(random, true).Count * 100.0 / Frames.EncodeBlock(random).Count:F0} %, compressible {Frames.EncodeBlock(text, true).Count * 100.0 / Frames.EncodeBlock(text).Count:F0} % of the plain frame");

        using var sender = ActorSystem.Create("sender", ConfigurationFactory.ParseString(Hocon));
        using var receiverSystem = ActorSystem.Create("receiver", ConfigurationFactory.ParseString(Hocon));
        var transport = new TcpChannelTransport(sender);
        await using var receiver = new ChannelReceiver(receiverSystem.Materializer(), receiverSystem.Log);
        await receiver.StartAsync(new TcpChannelTransport(receiverSystem), "127.0.0.1", 0);
        var measure = new Measure(args.Runs);

        await measure.AddAsync("raw socket copy", "loopback", baseline: true, () => RawSocketAsync(random, count));
        foreach (var (name, block) in new[] { ("random", random), ("compressible", text) })
        {
            foreach (var lz4 in new[] { false, true })
            {
                await measure.AddAsync($"data channel, {name}{(lz4 ? ", LZ4" : "")}", "loopback", baseline: false, async () =>
                {
                    var ticket = receiver.Expect(Guid.NewGuid().ToString(), Sink.ForEach<PooledBlock>(b => b.Release()).MapMaterializedValue(t => (Task)t));
                    var blocks = Source.From(Enumerable.Range(0, count)).Select(_ => Pooled(block));
                    return await ChannelSender.SendAsync(transport, ticket, blocks, sender.Materializer(), compress: lz4);
                });
            }
        }

        var drain = receiverSystem.ActorOf(Props.Create(() => new DrainActor()), "drain");
        var remoteDrain = await sender.ActorSelection(new RootActorPath(((ExtendedActorSystem)receiverSystem).Provider.DefaultAddress) / "user" / "drain").ResolveOne(TimeSpan.FromSeconds(10));
        var data = random.Data.ToArray();
        await measure.AddAsync("Akka.Remote StreamRefs, random", "loopback", baseline: false, async () =>
        {
            var sourceRef = await Source.Repeat(data).Take(Math.Max(1, count / 4)).RunWith(StreamRefs.SourceRef<byte[]>(), sender.Materializer());
            return await remoteDrain.Ask<long>(sourceRef, TimeSpan.FromMinutes(10));
        });

        _ = drain;
        CaseNotes.Channel.Print(measure.Print);
        await sender.Terminate();
        await receiverSystem.Terminate();
    }

    /// <summary>The ceiling: the same frames through a plain socket into one reused buffer.</summary>
    private static async Task<long> RawSocketAsync(VhdBlock block, int count)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var receive = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await using var stream = new NetworkStream(socket);
            var header = new byte[Frames.HeaderSize];
            var buffer = new byte[Bitmap + BlockData + 8];
            long bytes = 0;
            for (var i = 0; i < count; i++)
            {
                await stream.ReadExactlyAsync(header);
                var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
                await stream.ReadExactlyAsync(buffer.AsMemory(0, length));
                bytes += length - 8;
            }

            return bytes;
        });
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            await using var stream = client.GetStream();
            var frame = Frames.EncodeBlock(block).ToArray();
            for (var i = 0; i < count; i++)
            {
                await stream.WriteAsync(frame);
            }
        }

        return await receive;
    }

    /// <summary>The block in a buffer of the shared pool, as the run's export reader hands it on (one copy, as a
    /// read from the export is): what the sender does with the buffer afterwards (give it back or leave it to the
    /// garbage collector) is part of what this bench measures.</summary>
    internal static PooledBlock Pooled(VhdBlock template)
    {
        var buffer = PooledBlock.Rent(template.Bitmap.Length + template.Data.Length);
        template.Bitmap.Span.CopyTo(buffer);
        template.Data.Span.CopyTo(buffer.AsSpan(template.Bitmap.Length));
        var block = new VhdBlock(template.Index, buffer.AsMemory(0, template.Bitmap.Length),
            buffer.AsMemory(template.Bitmap.Length, template.Data.Length));
        return new PooledBlock(block, buffer, 1);
    }

    private static VhdBlock Block(bool compressible)
    {
        var buffer = new byte[Bitmap + BlockData];
        buffer.AsSpan(0, Bitmap).Fill(0xFF);
        if (compressible)
        {
            // Text-like content: a guest's logs and configuration compress about 4:1 with LZ4.
            var words = System.Text.Encoding.ASCII.GetBytes("replication log line 0042: block written to the virtual disk at offset ");
            var rng = new Random(7);
            for (var i = Bitmap; i < buffer.Length; i++)
            {
                buffer[i] = rng.Next(8) == 0 ? (byte)rng.Next(48, 58) : words[i % words.Length];
            }
        }
        else
        {
            new Random(42).NextBytes(buffer.AsSpan(Bitmap));
        }

        return new VhdBlock(0, buffer.AsMemory(0, Bitmap), buffer.AsMemory(Bitmap));
    }

    /// <summary>Runs each StreamRef it is sent to the end and answers with the bytes received.</summary>
    private sealed class DrainActor : ReceiveActor
    {
        public DrainActor()
        {
            var materializer = Context.Materializer();
            Receive<ISourceRef<byte[]>>(sourceRef => sourceRef.Source.RunAggregate(0L, (sum, block) => sum + block.Length, materializer).PipeTo(Sender));
        }
    }
}
