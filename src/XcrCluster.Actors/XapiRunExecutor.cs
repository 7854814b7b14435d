using System.Collections.Concurrent;
using Akka.Streams;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication;
using XcrCluster.Xapi;
using RunStatus = XcrCluster.Domain.Vm.RunStatus;

namespace XcrCluster.Actors;

/// <summary>Runs a replication against real pools: connects to the source and target pools named in the
/// request (endpoints from the registry), takes the pools' slots at the gate (their pool agents), and reports
/// what the engine did. With <paramref name="publish"/> the run's progress and its end go out as
/// <see cref="IRunProgressMessage"/>s (<see cref="RunProgressTopic"/>).</summary>
public sealed class XapiRunExecutor(IPoolRegistry pools, IPoolGate? gate = null, IRemoteTargets? remote = null,
    Action<IRunProgressMessage>? publish = null) : IRunExecutor
{
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Cancel, Task Run)> active = new(StringComparer.Ordinal);

    public async Task<RunResult> ExecuteAsync(ReplicateVm request, IMaterializer materializer, CancellationToken ct)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        active[request.RunId] = (cancel, done.Task);
        var status = RunStatus.Failed;
        try
        {
            // Xen Orchestra's nRetriesVmBackupFailures: a failed VM is tried again (each attempt cleans up after itself);
            // a skipped one is not, and the warning of each retry stays in the log of the run that succeeds or fails last.
            var warnings = new List<LogLine>();
            for (var attempt = 1; ; attempt++)
            {
                var result = await RunAsync(request, materializer, cancel.Token).ConfigureAwait(false);
                if (result.Status != RunStatus.Failed || attempt > request.Settings.Retries || cancel.IsCancellationRequested)
                {
                    status = result.Status;
                    return warnings.Count == 0 ? result : result with { Log = [.. warnings, .. result.Log] };
                }

                var now = DateTimeOffset.UtcNow;
                warnings.Add(new LogLine("Retry the VM backup due to an error", "warning", now, now, null,
                    $"attempt {attempt}: {result.Error}", null));
            }
        }
        finally
        {
            publish?.Invoke(new RunEnded(request.RunId, request.VmUuid, status.Name()));
            active.TryRemove(request.RunId, out _);
            done.SetResult();
        }
    }

    public async Task CancelAllAsync(TimeSpan grace)
    {
        var runs = active.Values.ToList();
        foreach (var (cancel, _) in runs)
        {
            try
            {
                await cancel.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        await Task.WhenAny(Task.WhenAll(runs.Select(r => r.Run)), Task.Delay(grace)).ConfigureAwait(false);
    }

    private async Task<RunResult> RunAsync(ReplicateVm request, IMaterializer materializer, CancellationToken ct)
    {
        var clients = new Dictionary<string, XapiClient>(StringComparer.Ordinal);
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
                Progress = publish is null ? null : new RunProgressTopic.Reporter(request, publish),
            };
            var report = await replication.RunAsync(request.VmUuid, ct).ConfigureAwait(false);
            return ToResult(request.RunId, report);
        }
        catch (Exception e)
        {
            // Whatever failed before the engine took over (a pool unreachable, a key that does not open, a reply that
            // does not parse): the VM's run failed, nothing was made, and it is retried per `retries`.
            return new RunResult(request.RunId, RunStatus.Failed,
                e is XapiException or TimeoutException ? e.Message : $"{e.GetType().Name}: {e.Message}", false, null, [], []);
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public static RunResult ToResult(string runId, RunReport report) => new(
        runId,
        report.Status switch
        {
            Replication.RunStatus.Success => RunStatus.Success, Replication.RunStatus.Skipped => RunStatus.Skipped, _ => RunStatus.Failed,
        },
        report.Error,
        report.IsFull,
        report.SourceSnapshotUuid,
        [.. report.Targets.Select(t => new TargetResult(t.SrUuid, t.Succeeded, t.Error, t.TargetVmUuid, t.RestorePointUuid, t.BytesSent))],
        [.. report.Log.Select(l => new LogLine(l.Name, l.Status, l.Start, l.End, l.Size, l.Message, l.Target))]);
}

/// <summary>Where a registered pool's XAPI is (URL, credentials, TLS choice), by pool name.</summary>
public interface IPoolRegistry
{
    /// <summary>The pool's endpoint; KeyNotFoundException for an unknown pool.</summary>
    Task<XapiEndpoint> EndpointAsync(string pool);
}

/// <summary>A fixed set of pools (tests, the demo, a node's config file).</summary>
public sealed class StaticPoolRegistry(IReadOnlyDictionary<string, XapiEndpoint> pools) : IPoolRegistry
{
    public Task<XapiEndpoint> EndpointAsync(string pool) => pools.TryGetValue(pool, out var endpoint) ? Task.FromResult(endpoint)
        : throw new KeyNotFoundException($"unknown pool \"{pool}\"");
}
