using Akka.Actor;
using XcrCluster.Domain.Pools;
using XcrCluster.Replication;

namespace XcrCluster.Actors;

/// <summary>A run's slots from the pool agents of the cluster, through this node's <see cref="PoolAgentsActor"/>.
/// A run cancelled while waiting withdraws its request; a lease is given back when disposed.</summary>
public sealed class PoolAgentGate(Func<Task<IActorRef>> poolAgents) : IPoolGate
{
    public async Task<IAsyncDisposable> AcquireAsync(string pool, SlotKind kind, int count, CancellationToken ct)
    {
        var agents = await poolAgents().ConfigureAwait(false);
        var lease = Guid.NewGuid().ToString();
        try
        {
            await agents.Ask<SlotsGranted>(new AcquireSlots(pool, kind, count, lease, ""), ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            agents.Tell(new ReleaseSlots(pool, lease));
            throw;
        }

        return new Lease(agents, pool, lease);
    }

    private sealed class Lease(IActorRef agents, string pool, string id) : IAsyncDisposable
    {
        private int released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                agents.Tell(new ReleaseSlots(pool, id));
            }

            return ValueTask.CompletedTask;
        }
    }
}
