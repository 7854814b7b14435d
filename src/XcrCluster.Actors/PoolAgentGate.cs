using Akka.Actor;
using XcrCluster.Domain.Pools;
using XcrCluster.Replication;

namespace XcrCluster.Actors;

/// <summary>A run's slots from the pool agents of the cluster, through this node's <see cref="PoolAgentsActor"/>.
/// A run cancelled while waiting withdraws its request; a lease is given back when disposed. A request the agent
/// drops after the pool's longest wait fails with the agent's reason; one the agent never answers (it moved and
/// forgot it) fails after <paramref name="maxWait"/> (the pools' longest wait and a minute).</summary>
public sealed class PoolAgentGate(Func<Task<IActorRef>> poolAgents, TimeSpan? maxWait = null) : IPoolGate
{
    private readonly TimeSpan wait = maxWait ?? PoolLimits.DefaultMaxWait + TimeSpan.FromMinutes(1);

    public async Task<IAsyncDisposable> AcquireAsync(string pool, SlotKind kind, int count, CancellationToken ct)
    {
        var agents = await poolAgents().ConfigureAwait(false);
        var lease = Guid.NewGuid().ToString();
        IPoolAgentMessage reply;
        try
        {
            reply = await agents.Ask<IPoolAgentMessage>(new AcquireSlots(pool, kind, count, lease, ""), wait, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or AskTimeoutException)
        {
            agents.Tell(new ReleaseSlots(pool, lease));
            if (e is AskTimeoutException && !ct.IsCancellationRequested)
            {
                throw new TimeoutException($"pool {pool}: no {kind.ToString().ToLowerInvariant()} slot granted within {wait}", e);
            }

            throw;
        }

        return reply switch
        {
            SlotsGranted => new Lease(agents, pool, lease),
            SlotsRefused refused => throw new TimeoutException(refused.Reason),
            _ => throw new InvalidOperationException($"pool {pool}: unexpected answer {reply.GetType().Name} to a slot request"),
        };
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
