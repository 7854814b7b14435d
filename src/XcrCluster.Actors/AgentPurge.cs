using XcrCluster.Domain.Pools;
using XcrCluster.Replication;
using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>The agent's side of <see cref="PurgeOnPool"/>: <see cref="ReplicaPurge"/> on a session of its own, off the agent.</summary>
public static class AgentPurge
{
    /// <summary>The longest a purge is waited for; past it the asker hears why (what is left is removed by purging again).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static async Task<PoolPurged> RunAsync(PurgeOnPool purge, AgentServices services)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            return await PurgeAsync(purge, services, deadline.Token).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"the purge took longer than {Timeout.TotalMinutes:F0} min");
        }
    }

    private static async Task<PoolPurged> PurgeAsync(PurgeOnPool purge, AgentServices services, CancellationToken ct)
    {
        var pool = await PoolMirrors.OpenAsync(services.Pools, purge.Pool, services.Mirrors, null, ct).ConfigureAwait(false);
        await using var client = pool.Client;
        var vms = purge.Vms is null ? null : new HashSet<string>(purge.Vms, StringComparer.Ordinal);
        if (purge.SrUuid is null)
        {
            var snapshots = await ReplicaPurge.SourceSnapshotsAsync(pool, purge.JobId
                ?? throw new ArgumentException("a source purge names its job"), vms).ConfigureAwait(false);
            return new PoolPurged(purge.Pool, null, snapshots, 0, 0);
        }

        var (points, replicas) = await ReplicaPurge.TargetAsync(pool, purge.SrUuid, purge.JobId, vms).ConfigureAwait(false);
        return new PoolPurged(purge.Pool, purge.SrUuid, 0, points, replicas);
    }
}
