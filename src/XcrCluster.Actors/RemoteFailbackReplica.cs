using Akka.Actor;
using XcrCluster.DataChannel;
using XcrCluster.Replication;
using XcrCluster.Replication.Recovery;

namespace XcrCluster.Actors;

/// <summary>The replica's pool of a failback when another node serves it: its agent there reads the replica and sends each
/// disk's delta over the data channel to a ticket of this node, whose receiver keeps it in a temporary file (the same
/// <see cref="DeltaBack.Delta"/> a local read makes), so every delta is here before the original pool changes.</summary>
public sealed class RemoteFailbackReplica(string pool, IActorRef poolAgents, ChannelReceiver receiver) : IFailbackReplica
{
    /// <summary>A snapshot or a read of the replica's pool; a transfer may take as long as the step itself.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    public string Name => pool;

    public async Task<FailbackReplicaSide> ReadAsync(string vm, CancellationToken ct)
        => (await AskAsync<FailbackReplicaRead>(new ReadFailbackReplica(pool, vm), StepTimeout, ct).ConfigureAwait(false)).Side;

    public async Task ReadDeltasAsync(FailbackBase found, IDictionary<string, DeltaBack.Delta> deltas, RecoveryLog log,
        CancellationToken ct)
    {
        var disks = found.Disks.Select(d => new FailbackDeltaDisk(d.Userdevice, d.PointVdi.Ref)).ToList();
        var snapshot = await log.StepAsync($"snapshot replica {found.Replica.Uuid} (on pool {pool}'s node)",
            () => AskAsync<FailbackReplicaSnapshotted>(new SnapshotFailbackReplica(pool, found.Replica.Ref, Failback.SnapshotLabel(found),
                disks), StepTimeout, ct)).ConfigureAwait(false);
        try
        {
            var points = disks.ToDictionary(d => d.Userdevice, d => d.PointVdi);
            foreach (var shaped in snapshot.Shapes)
            {
                deltas[shaped.Userdevice] = await log.StepAsync($"receive the blocks disk {shaped.Userdevice} changed since restore "
                    + $"point {found.Point.Uuid} over the data channel", () => ReceiveAsync(shaped, points[shaped.Userdevice], ct))
                    .ConfigureAwait(false);
            }
        }
        finally
        {
            await AskAsync<FailbackSnapshotDropped>(new DropFailbackSnapshot(pool, snapshot.Snapshot), StepTimeout, default)
                .ConfigureAwait(false);
        }
    }

    /// <summary>One delta: a ticket whose blocks go into a temporary VHD file, the replica's agent asked to send them.</summary>
    private async Task<DeltaBack.Delta> ReceiveAsync(FailbackDeltaShape shaped, string pointVdi, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"xcr-failback-{Guid.NewGuid():N}.vhd");
        var sink = ImportSink.Create(shaped.Shape, async (writeBody, _, token) =>
        {
            await using var file = File.Create(path);
            await writeBody(file, token).ConfigureAwait(false);
        }, ct);
        var ticket = receiver.Expect($"failback/{Guid.NewGuid():N}/{shaped.Userdevice}", sink);
        try
        {
            await AskAsync<FailbackDeltaSent>(new SendFailbackDelta(pool, shaped.SnapshotVdi, pointVdi, ticket), AgentRecovery.Timeout, ct)
                .ConfigureAwait(false);
            var blocks = shaped.Shape.PresentBlocks.Count;
            return new DeltaBack.Delta(path, blocks, blocks == 0 ? 0 : new FileInfo(path).Length);
        }
        catch
        {
            receiver.Forget(ticket.TransferId);
            File.Delete(path);
            throw;
        }
    }

    private async Task<TReply> AskAsync<TReply>(IFailbackReplicaRequest request, TimeSpan timeout, CancellationToken ct)
        where TReply : IFailbackReplicaReply
    {
        IFailbackReplicaReply reply;
        try
        {
            reply = await poolAgents.Ask<IFailbackReplicaReply>(request, timeout, ct).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw new InvalidOperationException(
                $"pool {pool}'s agent did not answer {request.GetType().Name} within {timeout.TotalMinutes:F0} min");
        }

        return reply switch
        {
            TReply expected => expected,
            FailbackReplicaFailed { Refused: true } refused => throw new RecoveryRefusedException(refused.Error),
            FailbackReplicaFailed failed => throw new InvalidOperationException($"pool {pool}: {failed.Error}"),
            _ => throw new InvalidOperationException($"pool {pool}'s agent answered {request.GetType().Name} with {reply.GetType().Name}"),
        };
    }
}
