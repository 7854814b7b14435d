using Akka.Actor;
using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Domain;
using XcrCluster.Replication;
using XcrCluster.Vhd;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Actors;

/// <summary>A target SR whose pool agent runs on another node: the run opens a session on the agent, asks it for
/// each step, and sends each disk's blocks over the data channel with the ticket the agent's node issued.</summary>
public sealed class AgentTargetSpec(string pool, string srUuid, IActorRef poolAgents, IPoolGate gate, IChannelTransport transport,
    TimeSpan stepTimeout, ChannelSendOptions? send = null)
    : ITargetSpec
{
    public string PoolName => pool;

    public IPoolGate Gate => gate;

    public string SrUuid => srUuid;

    public async Task<ITargetSide> OpenAsync(JobRef job, string sourceVmUuid, string sourceVmName, CancellationToken ct)
    {
        var session = $"{job.JobId}/{sourceVmUuid}/{srUuid}/{Guid.NewGuid():N}";
        var side = new RemoteTargetSide(pool, session, srUuid, poolAgents, transport, stepTimeout, send ?? ChannelSendOptions.Default);
        side.SrName = (await side.AskAsync<TargetOpened>(new OpenTarget(pool, session, job, sourceVmUuid, sourceVmName, srUuid), ct)
            .ConfigureAwait(false)).SrName;
        return side;
    }
}

public sealed class RemoteTargetSide(string pool, string session, string srUuid, IActorRef poolAgents, IChannelTransport transport,
    TimeSpan stepTimeout, ChannelSendOptions send)
    : ITargetSide, IAsyncDisposable
{
    private HashSet<string> bases = new(StringComparer.Ordinal);

    public string SrUuid => srUuid;

    public string SrName { get; internal set; } = "";

    public async Task<int> RemoveLeftoversAsync(CancellationToken ct)
        => (await AskAsync<LeftoversRemoved>(new RemoveTargetLeftovers(pool, session), ct).ConfigureAwait(false)).Count;

    public async Task FindBasesAsync(IReadOnlyList<string> snapshotVdiUuids, CancellationToken ct)
    {
        var found = await AskAsync<BasesFound>(new FindTargetBases(pool, session, snapshotVdiUuids), ct).ConfigureAwait(false);
        bases = [.. found.SnapshotVdiUuids];
        ReplicaNote = found.ReplicaNote;
    }

    public async Task FindBasesByContentAsync(IReadOnlyList<ContentSnapshotDisk> queries, CancellationToken ct)
    {
        var found = await AskAsync<BasesFound>(new FindTargetBasesByContent(pool, session, queries), ct).ConfigureAwait(false);
        bases = [.. found.SnapshotVdiUuids];
        ReplicaNote = found.ReplicaNote;
    }

    public string? ReplicaNote { get; private set; }

    public bool HasBase(string snapshotVdiUuid) => bases.Contains(snapshotVdiUuid);

    public async Task<string> PrepareDiskAsync(VdiRecord source, string? baseSnapshotVdiUuid)
        => (await AskAsync<DiskPrepared>(new PrepareTargetDisk(pool, session, source, baseSnapshotVdiUuid), default)
            .ConfigureAwait(false)).Disk;

    public BlockFanOut.TargetSink ImportTo(string targetDisk, Action<long> imported, CancellationToken ct) => async shape =>
    {
        var ticket = (await AskAsync<TargetImportTicket>(new ExpectTargetImport(pool, session, targetDisk, shape), ct)
            .ConfigureAwait(false)).Ticket;
        var length = new VhdStreamWriter(Stream.Null, shape.VirtualSize, shape.PresentBlocks, shape.Parent, shape.BlockSize).Length;
        return ChannelSender.Sink(ticket.Transport(transport), ticket, ct, send.StallTimeout, send.Compress).MapMaterializedValue(async sent =>
        {
            await sent.ConfigureAwait(false);
            imported(length); // the receiver answers "ok" only once the import on its node returned
        });
    };

    public async Task<(string TargetVm, string RestorePoint)> CommitAsync(TargetCommit commit)
    {
        var committed = await AskAsync<ReplicaCommitted>(new CommitTarget(pool, session, commit), default).ConfigureAwait(false);
        return (committed.ReplicaVm, committed.RestorePoint);
    }

    /// <summary>Short: a rollback that cannot reach the agent (its node died) is left to the next run's cleanup.</summary>
    public async Task RollBackAsync()
        => await AskAsync<TargetRolledBack>(new RollBackTarget(pool, session), default, TimeSpan.FromSeconds(30)).ConfigureAwait(false);

    public async Task<IReadOnlyList<string>> PruneAsync(int keep, CancellationToken ct)
        => (await AskAsync<TargetPruned>(new PruneTarget(pool, session, keep), ct).ConfigureAwait(false)).RestorePoints;

    public async Task<string> HealthCheckAsync(string restorePointUuid, string srUuid, TimeSpan timeout, CancellationToken ct)
        => (await AskAsync<HealthChecked>(new HealthCheckTarget(pool, session, restorePointUuid, srUuid, timeout), ct,
            timeout + stepTimeout).ConfigureAwait(false)).Seen;

    public ValueTask DisposeAsync()
    {
        poolAgents.Tell(new CloseTarget(pool, session));
        return ValueTask.CompletedTask;
    }

    /// <summary>One step on the agent, answered with its own reply; its failure becomes this target's failure
    /// (<see cref="TargetFailedException"/>).</summary>
    internal async Task<TReply> AskAsync<TReply>(ITargetRequest request, CancellationToken ct, TimeSpan? timeout = null)
        where TReply : ITargetReply
    {
        ITargetReply reply;
        var limit = timeout ?? stepTimeout;
        try
        {
            reply = await poolAgents.Ask<ITargetReply>(request, limit, ct).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw new TargetFailedException(
                $"pool {pool}'s agent did not answer {request.GetType().Name} within {limit.TotalSeconds:F0} s");
        }

        return reply switch
        {
            TReply expected => expected,
            TargetFailed failed => throw new TargetFailedException(failed.Error),
            _ => throw new TargetFailedException($"pool {pool}'s agent answered {request.GetType().Name} with {reply.GetType().Name}"),
        };
    }
}
