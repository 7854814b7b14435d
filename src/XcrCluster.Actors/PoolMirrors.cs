using XcrCluster.Replication;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Mirror;

namespace XcrCluster.Actors;

/// <summary>The live mirrors of the pools a node serves, one per pool, each started by the first session, inventory or
/// purge that asks for it and stopped with the node. A pool whose registration now names another endpoint or login
/// gets a new mirror; the old one stops.</summary>
public sealed class PoolMirrors(PoolMirrorOptions? options = null) : IAsyncDisposable, IDisposable
{
    private readonly Dictionary<string, PoolMirror> mirrors = new(StringComparer.Ordinal);
    private bool disposed;

    /// <summary>The mirror of <paramref name="pool"/> at <paramref name="endpoint"/>, started if new.</summary>
    public PoolMirror For(string pool, XapiEndpoint endpoint)
    {
        PoolMirror? replaced = null;
        PoolMirror mirror;
        lock (mirrors)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (!mirrors.TryGetValue(pool, out var current) || current.Endpoint != endpoint)
            {
                replaced = current;
                mirrors[pool] = current = new PoolMirror(endpoint, options).Start();
            }

            mirror = current;
        }

        // Stopped off the caller: its loop ends at once, its logout is bounded by the client.
        _ = replaced?.DisposeAsync().AsTask();
        return mirror;
    }

    /// <summary>A session of this node to a registered pool, reading through the pool's mirror when the node keeps mirrors;
    /// the caller disposes the pool's client.</summary>
    public static async Task<Pool> OpenAsync(IPoolRegistry pools, string name, PoolMirrors? mirrors, IPoolGate? gate,
        CancellationToken ct)
    {
        var endpoint = await pools.EndpointAsync(name).ConfigureAwait(false);
        var client = await XapiClient.ConnectAsync(endpoint, ct: ct).ConfigureAwait(false);
        return new Pool(client) { Name = name, Gate = gate ?? OpenGate.Instance, Mirror = mirrors?.For(name, endpoint) };
    }

    public async ValueTask DisposeAsync()
    {
        List<PoolMirror> all;
        lock (mirrors)
        {
            disposed = true;
            all = [.. mirrors.Values];
            mirrors.Clear();
        }

        foreach (var mirror in all)
        {
            await mirror.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>For a shutdown hook that cannot await: stops every mirror without waiting for the logouts.</summary>
    public void Dispose() => _ = DisposeAsync().AsTask();
}
