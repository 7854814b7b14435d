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

    public async Task<RunResult> RunAsync(ReplicateVm request, IMaterializer materializer, IProgress<RunProgress>? progress,
        CancellationToken ct)
    {
        var clients = new Dictionary<string, XapiClient>(StringComparer.Ordinal);
        using var rate = Throttles?.Take(request.RunId, request.Settings.MaxExportRate);
        try
        {
            async Task<Pool> Connect(string name)
            {
                if (!clients.TryGetValue(name, out var client))
                {
                    client = await XapiClient.ConnectAsync(await pools.EndpointAsync(name).ConfigureAwait(false), ct: ct)
                        .ConfigureAwait(false);
                    clients[name] = client;
                }

                return new Pool(client) { Name = name, Gate = gate ?? OpenGate.Instance };
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
            foreach (var client in clients.Values)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public static RunResult Failed(ReplicateVm request, string error) => new(request.RunId, RunStatus.Failed, error, false, null, [], []);
}
