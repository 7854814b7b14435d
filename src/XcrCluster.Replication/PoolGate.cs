using XcrCluster.Domain.Pools;

namespace XcrCluster.Replication;

/// <summary>Where a run asks for a pool's slots (its pool agent in the cluster); the lease is given back on dispose.</summary>
public interface IPoolGate
{
    Task<IAsyncDisposable> AcquireAsync(string pool, SlotKind kind, int count, CancellationToken ct);
}

/// <summary>No limits (a run on its own: tests, tools).</summary>
public sealed class OpenGate : IPoolGate
{
    public static readonly OpenGate Instance = new();

    public Task<IAsyncDisposable> AcquireAsync(string pool, SlotKind kind, int count, CancellationToken ct) => Task.FromResult<IAsyncDisposable>(NoLease.Instance);

    private sealed class NoLease : IAsyncDisposable
    {
        public static readonly NoLease Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>Slots on several pools for one step (a disk's export and its imports): one request per pool, in pool
/// name order, so two runs can never each hold what the other waits for.</summary>
public static class PoolSlotLeases
{
    public static async Task<IAsyncDisposable> AcquireAsync(IEnumerable<(string Pool, IPoolGate Gate)> pools, SlotKind kind, CancellationToken ct)
    {
        var leases = new Leases();
        try
        {
            foreach (var group in pools.GroupBy(p => p.Pool, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                leases.Add(await group.First().Gate.AcquireAsync(group.Key, kind, group.Count(), ct).ConfigureAwait(false));
            }

            return leases;
        }
        catch
        {
            await leases.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Leases : List<IAsyncDisposable>, IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var lease in this)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
            }

            Clear();
        }
    }
}
