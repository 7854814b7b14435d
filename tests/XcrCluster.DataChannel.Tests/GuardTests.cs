using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.Vhd;

namespace XcrCluster.DataChannel.Tests;

/// <summary>A receiver against peers it does not know: the connection limit, the handshake timeout, tickets that
/// expire or are forgotten; a legitimate transfer still gets in.</summary>
public sealed class GuardTests() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = WARNING")
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Beyond_the_connection_limit_a_new_connection_is_closed_at_once_and_a_freed_slot_admits_a_transfer()
    {
        await using var receiver = await StartAsync(new ChannelLimits { MaxConnections = 2, HandshakeTimeout = TimeSpan.FromSeconds(60) });
        using var first = await RawPeer.ConnectAsync(receiver.Endpoint);
        using var second = await RawPeer.ConnectAsync(receiver.Endpoint);
        await AwaitConditionAsync(() => Task.FromResult(receiver.Connections == 2), Soon);

        var refusal = new Regex(@"refused a connection from 127\.0\.0\.1:\d+: 2 connections open already");
        await EventFilter.Warning(refusal).ExpectOneAsync(async () =>
        {
            using var third = await RawPeer.ConnectAsync(receiver.Endpoint);
            Assert.True(await third.ClosedWithinAsync(TimeSpan.FromSeconds(3)), "the connection beyond the limit stayed open");
        });

        first.Dispose();
        second.Dispose();
        await AwaitConditionAsync(() => Task.FromResult(receiver.Connections == 0), Soon);
        await SendAsync(receiver.Expect("after-limit", Count(out var received)));
        Assert.Equal(1, received.Value);
    }

    [Fact]
    public async Task A_connection_without_a_hello_is_closed_and_logged_after_the_handshake_timeout()
    {
        await using var receiver = await StartAsync(new ChannelLimits { HandshakeTimeout = TimeSpan.FromSeconds(1) });
        using var peer = await RawPeer.ConnectAsync(receiver.Endpoint);
        await EventFilter.Warning(new Regex(@"refused a connection from 127\.0\.0\.1:\d+: no hello within 1 s")).ExpectOneAsync(async () =>
        {
            Assert.True(await peer.TrySendAsync(RawPeer.Header('H', 40)[..3], Soon)); // half a header, then nothing
            Assert.True(await peer.ClosedWithinAsync(Soon), "a silent connection stayed open past the handshake timeout");
        });
        await AwaitConditionAsync(() => Task.FromResult(receiver.Connections == 0), Soon);
    }

    [Fact]
    public async Task An_unused_ticket_expires_and_its_token_is_refused_afterwards()
    {
        await using var receiver = await StartAsync(new ChannelLimits { TicketLifetime = TimeSpan.FromMilliseconds(300) });
        var ticket = await EventFilter.Warning(contains: "transfer late-1 expired").ExpectOneAsync(Soon, () =>
            Task.FromResult(receiver.Expect("late-1", Count(out _))));
        await EventFilter.Warning(contains: "(transfer late-1): no such transfer expected").ExpectOneAsync(async () =>
            await RefusedAsync(() => SendAsync(ticket)));
        Assert.False(receiver.Forget("late-1"));
    }

    [Fact]
    public async Task A_forgotten_ticket_is_refused_at_once()
    {
        await using var receiver = await StartAsync(new ChannelLimits());
        var ticket = receiver.Expect("gone-1", Count(out var received));
        Assert.True(receiver.Forget("gone-1"));
        await EventFilter.Warning(contains: "(transfer gone-1): no such transfer expected").ExpectOneAsync(async () =>
            await RefusedAsync(() => SendAsync(ticket)));
        Assert.Equal(0, received.Value);

        // Another ticket of the same receiver is not affected, and works once.
        await SendAsync(receiver.Expect("kept-1", Count(out var kept)));
        Assert.Equal(1, kept.Value);
    }

    private async Task<ChannelReceiver> StartAsync(ChannelLimits limits)
    {
        var receiver = new ChannelReceiver(Sys.Materializer(), Sys.Log, limits);
        await receiver.StartAsync(new TcpChannelTransport(Sys), "127.0.0.1", 0);
        return receiver;
    }

    private Task<long> SendAsync(ChannelTicket ticket)
    {
        var buffer = new byte[512 + 4096];
        new Random(1).NextBytes(buffer);
        var block = new VhdBlock(0, buffer.AsMemory(0, 512), buffer.AsMemory(512));
        var blocks = Source.Single(new PooledBlock(block, [], 1));
        return ChannelSender.SendAsync(new TcpChannelTransport(Sys), ticket, blocks, Sys.Materializer());
    }

    /// <summary>A refused sender hears the refusal (its blocks wait for the receiver's Go, so no reset can lose it).</summary>
    private static async Task RefusedAsync(Func<Task> send)
        => Assert.Contains("refused", (await Assert.ThrowsAsync<ChannelRefusedException>(send)).Message);

    /// <summary>A sink that counts (and releases) the blocks it gets.</summary>
    private static Sink<PooledBlock, Task> Count(out StrongBox<int> count)
    {
        var box = count = new StrongBox<int>();
        return Sink.ForEach<PooledBlock>(b =>
        {
            Interlocked.Increment(ref box.Value);
            b.Release();
        }).MapMaterializedValue(t => (Task)t);
    }
}
