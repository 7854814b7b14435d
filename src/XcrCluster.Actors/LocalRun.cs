using Akka.Streams;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication;
using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>One attempt of a run on this node: the source pool's XAPI session is opened here (on the node serving
/// the source pool: <see cref="SourceSessionActor"/>), and each target is either this node's own session (its pool's
/// agent runs here) or the target pool's agent on another node, the blocks then going over the data channel.</summary>
public sealed class LocalRun(IPoolRegistry pools, IPoolGate? gate = null, IRemoteTargets? remote = null)
{
    /// <summary>The throttles of the runs going on this node: maxExportRate is shared by every VM of a job run; null: this
    /// VM's own.</summary>
    public RunThrottles? Throttles { get; init; }

    /// <summary>The node's pool mirrors the run reads records through; null: it reads the pools directly.</summary>
    public PoolMirrors? Mirrors { get; init; }

    public async Task<RunResult> RunAsync(ReplicateVm request, IMaterializer materializer, IProgress<RunProgress>? progress,
        CancellationToken ct)
    {
        var opened = new Dictionary<string, Pool>(StringComparer.Ordinal);
        using var rate = Throttles?.Take(request.RunId, request.Settings.MaxExportRate);
        try
        {
            async Task<Pool> Connect(string name)
            {
                if (!opened.TryGetValue(name, out var pool))
                {
                    pool = await PoolMirrors.OpenAsync(pools, name, Mirrors, gate, ct).ConfigureAwait(false);
                    opened[name] = pool;
                }

                return pool;
            }

            var source = await Connect(request.SourcePool).ConfigureAwait(false);
            var targets = new List<ITargetSpec>();
            foreach (var target in request.Targets)
            {
                targets.Add((remote is null ? null : await remote.TryRemoteAsync(target.Pool, target.SrUuid, ct).ConfigureAwait(false))
                    ?? new TargetSpec(await Connect(target.Pool).ConfigureAwait(false), target.SrUuid));
            }

            var replication = new VmReplication(source, targets, request.Job, request.Settings, materializer)
            {
                Progress = progress, RunId = request.RunId,
                RateLimit = rate is null ? Throttle.For(request.Settings.MaxExportRate) : rate.Throttle,
            };
            return await replication.RunAsync(request.VmUuid, ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Whatever failed before the engine took over (a pool unreachable, a key that does not open, a reply that
            // does not parse): the VM's run failed, nothing was made, and it is retried per `retries`.
            return Failed(request, e is XapiException or TimeoutException ? e.Message : $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            foreach (var pool in opened.Values)
            {
                await pool.Client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public static RunResult Failed(ReplicateVm request, string error) => new(request.RunId, RunStatus.Failed, error, false, null, [], []);
}
