using Akka.Streams.Dsl;
using XcrCluster.DataChannel;
using XcrCluster.Replication;
using XcrCluster.Replication.Recovery;
using XcrCluster.Vhd;
using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>The replica pool's agent's side of a cross-node failback: each request on a session of its own to the pool
/// (this node is the one that reaches it), the deltas sent over the data channel to the source pool's node.</summary>
public static class AgentFailback
{
    public static async Task<IFailbackReplicaReply> RunAsync(IFailbackReplicaRequest request, AgentServices services)
    {
        using var deadline = new CancellationTokenSource(AgentRecovery.Timeout);
        try
        {
            var pool = await PoolMirrors.OpenAsync(services.Pools, request.Pool, services.Mirrors, services.Gate, deadline.Token)
                .ConfigureAwait(false);
            await using var client = pool.Client;
            return request switch
            {
                ReadFailbackReplica read => new FailbackReplicaRead(read.Pool,
                    await new PoolFailbackReplica(pool).ReadAsync(read.Vm, deadline.Token).ConfigureAwait(false)),
                SnapshotFailbackReplica snapshot => await SnapshotAsync(pool, snapshot, deadline.Token).ConfigureAwait(false),
                SendFailbackDelta send => new FailbackDeltaSent(send.Pool, await SendAsync(pool, send, services, deadline.Token)
                    .ConfigureAwait(false)),
                DropFailbackSnapshot drop => await DropAsync(pool, drop).ConfigureAwait(false),
                _ => throw new NotSupportedException($"no failback request {request.GetType().Name}"),
            };
        }
        catch (Exception e)
        {
            var error = deadline.IsCancellationRequested ? $"the step took longer than {AgentRecovery.Timeout.TotalHours:F0} h"
                : ErrorText.Of(e);
            return new FailbackReplicaFailed(request.Pool, error, e is RecoveryRefusedException);
        }
    }

    /// <summary>The snapshot, then each delta's BAT only (the body left unread): the receiver's import needs the shape first.</summary>
    private static async Task<IFailbackReplicaReply> SnapshotAsync(Pool pool, SnapshotFailbackReplica request, CancellationToken ct)
    {
        var snapshot = await pool.VmAsync(await pool.SnapshotAsync(request.Replica, request.Label, ct).ConfigureAwait(false))
            .ConfigureAwait(false);
        try
        {
            var now = (await pool.DisksAsync(snapshot).ConfigureAwait(false)).ToDictionary(d => d.Vbd.Userdevice);
            var shapes = new List<FailbackDeltaShape>();
            foreach (var disk in request.Disks)
            {
                var vdi = now[disk.Userdevice].Vdi.Ref;
                await using var export = await pool.Client.ExportVdiAsync(vdi, VdiFormat.Vhd, disk.PointVdi, ct: ct).ConfigureAwait(false);
                var reader = await VhdStreamReader.OpenAsync(export.Content, ct).ConfigureAwait(false);
                shapes.Add(new FailbackDeltaShape(disk.Userdevice, vdi, VhdShape.Of(reader)));
            }

            return new FailbackReplicaSnapshotted(pool.Name, snapshot.Ref, shapes);
        }
        catch
        {
            await pool.DestroyVmAsync(snapshot).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The delta read again in full (the snapshot and its restore point stand still, so it is the one shaped) and its
    /// blocks sent to the ticket; done once the receiver's node has them.</summary>
    private static async Task<long> SendAsync(Pool pool, SendFailbackDelta request, AgentServices services, CancellationToken ct)
    {
        var transport = services.Transport ?? throw new InvalidOperationException("this node has no data channel transport");
        var materializer = services.Materializer ?? throw new InvalidOperationException("this node has no stream materializer");
        await using var export = await pool.Client.ExportVdiAsync(request.SnapshotVdi, VdiFormat.Vhd, request.PointVdi, ct: ct)
            .ConfigureAwait(false);
        var reader = await VhdStreamReader.OpenAsync(export.Content, ct).ConfigureAwait(false);
        var blocks = Source.From(() => Blocks(reader, ct));
        var sent = await ChannelSender.SendAsync(request.Ticket.Transport(transport), request.Ticket, blocks, materializer, ct)
            .ConfigureAwait(false);
        await export.CompleteAsync(ct).ConfigureAwait(false);
        return sent;
    }

    /// <summary>The export's blocks in pooled buffers, one reader each (the channel's sender releases them).</summary>
    private static async IAsyncEnumerable<PooledBlock> Blocks(VhdStreamReader reader,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        while (true)
        {
            var buffer = PooledBlock.Rent((int)reader.Header.BlockTotalSize);
            VhdBlock? block;
            try
            {
                block = await reader.ReadBlockAsync(buffer, ct).ConfigureAwait(false);
            }
            catch
            {
                PooledBlock.Return(buffer);
                throw;
            }

            if (block is null)
            {
                PooledBlock.Return(buffer);
                yield break;
            }

            yield return new PooledBlock(block.Value, buffer, 1);
        }
    }

    private static async Task<IFailbackReplicaReply> DropAsync(Pool pool, DropFailbackSnapshot request)
    {
        await pool.DestroyVmAsync(await pool.VmAsync(request.Snapshot).ConfigureAwait(false)).ConfigureAwait(false);
        return new FailbackSnapshotDropped(pool.Name);
    }
}
