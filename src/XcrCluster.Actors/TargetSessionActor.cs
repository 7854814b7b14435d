using Akka.Actor;
using XcrCluster.DataChannel;
using XcrCluster.Replication;
using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>
/// One run's work on one SR of the agent's pool, on the agent's node: its own XAPI session and a
/// <see cref="TargetSr"/>. Each request's work runs off the actor and its reply is piped to the run; blocks come
/// over the data channel into the same import sink a local target uses. A session the run abandons (its node
/// died) rolls back and stops after a quiet period. The data channel tickets it issued and nobody used are
/// forgotten when it rolls back or stops: no token of a failed run admits anyone afterwards.
/// </summary>
public sealed class TargetSessionActor : ReceiveActor
{
    private static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(30);
    private readonly string pool;
    private readonly string session;
    private readonly AgentServices services;
    private readonly CancellationTokenSource stopping = new();

    /// <summary>Tickets issued (filled off the actor, by the steps' tasks), by transfer id.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ChannelReceiver> tickets = new(StringComparer.Ordinal);
    private XapiClient? client;
    private TargetSr? side;

    public TargetSessionActor(string pool, string session, AgentServices services)
    {
        this.pool = pool;
        this.session = session;
        this.services = services;
        Context.SetReceiveTimeout(Abandoned);
        Receive<OpenTarget>(m => Reply(async () =>
        {
            var opened = await PoolMirrors.OpenAsync(services.Pools, pool, services.Mirrors, null, stopping.Token).ConfigureAwait(false);
            client = opened.Client;
            side = (TargetSr)await new TargetSpec(opened, m.SrUuid)
                .OpenAsync(m.Job, m.VmUuid, m.VmName, stopping.Token).ConfigureAwait(false);
            return new TargetOpened(pool, session, side.SrName);
        }));
        Receive<RemoveTargetLeftovers>(
            _ => Reply(async () => new LeftoversRemoved(pool, session,
                await Side.RemoveLeftoversAsync(stopping.Token).ConfigureAwait(false))));
        Receive<FindTargetBases>(m => Reply(async () =>
        {
            await Side.FindBasesAsync(m.SnapshotVdiUuids, stopping.Token).ConfigureAwait(false);
            return new BasesFound(pool, session, [.. m.SnapshotVdiUuids.Where(Side.HasBase)], Side.ReplicaNote);
        }));
        Receive<FindTargetBasesByContent>(m => Reply(async () =>
        {
            await Side.FindBasesByContentAsync(m.Queries, stopping.Token).ConfigureAwait(false);
            return new BasesFound(pool, session, [.. m.Queries.Select(q => q.SnapshotVdiUuid).Where(Side.HasBase)], Side.ReplicaNote);
        }));
        Receive<PrepareTargetDisk>(
            m => Reply(async () => new DiskPrepared(pool, session,
                await Side.PrepareDiskAsync(m.Source, m.BaseSnapshotVdiUuid).ConfigureAwait(false))));
        Receive<ExpectTargetImport>(m => Reply(async () =>
        {
            // The sink opens the import with the first block that arrives: a ticket nobody uses opens nothing.
            var sink = await Side.ImportTo(m.Disk, _ => { }, stopping.Token)(m.Shape).ConfigureAwait(false);
            var receiver = await services.Receiver().ConfigureAwait(false);
            var ticket = receiver.Expect($"{session}/{m.Disk}", sink);
            tickets[ticket.TransferId] = receiver;
            return new TargetImportTicket(pool, session, ticket);
        }));
        Receive<CommitTarget>(m => Reply(async () =>
        {
            var (vm, restorePoint) = await Side.CommitAsync(m.Commit).ConfigureAwait(false);
            return new ReplicaCommitted(pool, session, vm, restorePoint);
        }));
        Receive<PruneTarget>(
            m => Reply(async () => new TargetPruned(pool, session, await Side.PruneAsync(m.Keep, stopping.Token).ConfigureAwait(false))));
        Receive<HealthCheckTarget>(m => Reply(async () =>
            new HealthChecked(pool, session,
                await Side.HealthCheckAsync(m.RestorePointUuid, m.SrUuid, m.Timeout, stopping.Token).ConfigureAwait(false))));
        Receive<RollBackTarget>(_ => Reply(async () =>
        {
            ForgetTickets();
            await Side.RollBackAsync().ConfigureAwait(false);
            return new TargetRolledBack(pool, session);
        }));
        Receive<CloseTarget>(_ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ =>
        {
            ForgetTickets();
            side?.RollBackAsync().PipeTo(Self, success: () => new CloseTarget(pool, session), failure: _ => new CloseTarget(pool, session));
            Context.SetReceiveTimeout(null);
        });
    }

    private TargetSr Side => side ?? throw new InvalidOperationException("the target session was not opened");

    public static Props Props(string pool, string session, AgentServices services)
        => Akka.Actor.Props.Create(() => new TargetSessionActor(pool, session, services));

    protected override void PostStop()
    {
        ForgetTickets();
        stopping.Cancel();
        client?.DisposeAsync().AsTask().ContinueWith(_ => stopping.Dispose(), TaskScheduler.Default);
    }

    /// <summary>Withdraws the tickets of this session still unused (a used one is gone from its receiver already).</summary>
    private void ForgetTickets()
    {
        foreach (var (transferId, receiver) in tickets)
        {
            if (tickets.TryRemove(transferId, out _))
            {
                receiver.Forget(transferId);
            }
        }
    }

    /// <summary>Runs a step off the actor; its result, or the failure, goes back to the run.</summary>
    private void Reply(Func<Task<ITargetReply>> work)
    {
        var run = Sender;
        Task.Run(work).ContinueWith(
            t => t.IsCompletedSuccessfully ? t.Result
                : new TargetFailed(pool, session, t.Exception?.GetBaseException().Message ?? "cancelled"),
            TaskScheduler.Default).PipeTo(run);
    }
}
