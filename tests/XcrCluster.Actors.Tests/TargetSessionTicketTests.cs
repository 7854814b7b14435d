using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Domain;
using XcrCluster.Vhd;

namespace XcrCluster.Actors.Tests;

/// <summary>A target session's data channel tickets do not outlive its run: those nobody used are forgotten when
/// the session rolls back or stops, so their tokens admit no one afterwards; and a ticket opens no import on the
/// pool before its blocks arrive.</summary>
public sealed class TargetSessionTicketTests() : Akka.TestKit.Xunit2.TestKit("akka.loglevel = WARNING")
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Unused_tickets_are_forgotten_when_the_session_rolls_back_or_stops()
    {
        await using var alpha = await SimHost.StartAsync();
        await using var receiver = new ChannelReceiver(Sys.Materializer(), Sys.Log);
        await receiver.StartAsync(new TcpChannelTransport(Sys), "127.0.0.1", 0);
        var registry = new StaticPoolRegistry(new Dictionary<string, Xapi.XapiEndpoint>
        {
            ["alpha"] = Xapi.XapiEndpoint.Parse($"http://root:password@{alpha.Url.Authority}"),
        });
        var services = new AgentServices(registry, () => Task.FromResult(receiver));
        var vm = await alpha.UuidAsync("VM", "tiny01");
        var sr = await alpha.UuidAsync("SR", "Local storage");

        async Task<(IActorRef Session, ChannelTicket Ticket)> OpenWithTicketAsync(string session)
        {
            var actor = Sys.ActorOf(TargetSessionActor.Props("alpha", session, services));
            var job = new JobRef("job-1", "nightly", "s-1", "hourly");
            Assert.IsType<TargetOpened>(await actor.Ask<ITargetMessage>(new OpenTarget("alpha", session, job, vm, "tiny01", sr), Step));
            var shape = new VhdShape(2 << 20, [0], null, 2 << 20);
            var reply = await actor.Ask<ITargetMessage>(new ExpectTargetImport("alpha", session, "disk-1", shape), Step);
            return (actor, Assert.IsType<TargetImportTicket>(reply).Ticket);
        }

        var (rolledBack, first) = await OpenWithTicketAsync("s-rollback");
        Assert.Equal(1, receiver.Waiting);
        Assert.IsType<TargetRolledBack>(await rolledBack.Ask<ITargetMessage>(new RollBackTarget("alpha", "s-rollback"), Step));
        await RefusedAsync(first);

        var (stopped, second) = await OpenWithTicketAsync("s-stop");
        Watch(stopped);
        stopped.Tell(new CloseTarget("alpha", "s-stop"));
        ExpectTerminated(stopped); // sent once PostStop has run
        await RefusedAsync(second);
        Assert.Equal(0, receiver.Waiting);

        // No block ever came: no import was opened (no XAPI task for it, no import request).
        Assert.Equal(0, alpha.Pool.Stats.Requests("/import_raw_vdi"));
        Assert.False(alpha.Pool.Stats.CallCounts().ContainsKey("task.create"), "an import task was created for a ticket nobody used");
    }

    /// <summary>The ticket's sender is refused because the receiver no longer expects it (not for any other reason).</summary>
    private async Task RefusedAsync(ChannelTicket ticket)
        => await EventFilter.Warning(contains: $"(transfer {ticket.TransferId}): no such transfer expected").ExpectOneAsync(async () =>
        {
            // The refusal itself: even the end frame waits for the receiver's Go, so no reset can lose it.
            var error = await Assert.ThrowsAsync<ChannelRefusedException>(() =>
                ChannelSender.SendAsync(new TcpChannelTransport(Sys), ticket, Source.Empty<PooledBlock>(), Sys.Materializer()));
            Assert.Contains("refused", error.Message);
        });
}
