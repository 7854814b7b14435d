using System.Diagnostics;
using Akka.Streams;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XcrCluster.Domain.Vm;
using XcrCluster.Replication;
using XcrCluster.Xapi;

namespace XcrCluster.Actors;

/// <summary>Runs a replication against real pools and reports it, trying a failed VM again per `retries`. Each attempt
/// runs where the source pool is served (<see cref="Sources"/>: the source pool's agent, <see cref="SourceSessionActor"/>);
/// without it (tests, a node composed by hand) on this node (<see cref="LocalRun"/>: pools from the registry, slots at the
/// gate). With <paramref name="publish"/> the run's progress and its end go out as <see cref="IRunProgressMessage"/>s
/// (<see cref="RunProgressTopic"/>).</summary>
public sealed class XapiRunExecutor(IPoolRegistry pools, IPoolGate? gate = null, IRemoteTargets? remote = null,
    Action<IRunProgressMessage>? publish = null) : IRunExecutor
{
    private readonly RunRegistry running = new();
    private readonly RunThrottles throttles = new();

    /// <summary>Where attempts run; null: here.</summary>
    public ISourceRuns? Sources { get; init; }

    /// <summary>Where each run's start and end are logged (<see cref="RunLogging"/>); none by default.</summary>
    public ILogger Log { get; init; } = NullLogger.Instance;

    /// <summary>Pool mirrors the runs made here read through (their owner disposes them); null: none.</summary>
    public PoolMirrors? Mirrors { get; init; }

    public async Task<RunResult> ExecuteAsync(ReplicateVm request, IMaterializer materializer, CancellationToken ct,
        Action<RunProgress>? progress = null)
    {
        var status = RunStatus.Failed;
        var clock = Stopwatch.StartNew();
        Log.Started(request);
        try
        {
            var ended = await running.TrackAsync(request.RunId, async token =>
            {
                // Xen Orchestra's nRetriesVmBackupFailures: a failed VM is tried again (each attempt cleans up after itself);
                // a skipped one is not, and the warning of each retry stays in the log of the run that succeeds or fails last.
                var warnings = new List<LogLine>();
                for (var attempt = 1; ; attempt++)
                {
                    var result = await AttemptAsync(request, materializer, Forward(progress), token).ConfigureAwait(false);
                    if (result.Status != RunStatus.Failed || attempt > request.Settings.Retries || token.IsCancellationRequested)
                    {
                        return warnings.Count == 0 ? result : result with { Log = [.. warnings, .. result.Log] };
                    }

                    Log.AttemptFailed(request, attempt, result.Error);

                    var now = DateTimeOffset.UtcNow;
                    warnings.Add(new LogLine("Retry the VM backup due to an error", "warning", now, now, null,
                        $"attempt {attempt}: {result.Error}", null));
                }
            }, ct).ConfigureAwait(false);
            status = ended.Status;
            Ended(request, ended, clock.Elapsed);
            return ended;
        }
        catch (Exception e)
        {
            Ended(request, LocalRun.Failed(request, ErrorText.Of(e)), clock.Elapsed);
            throw;
        }
        finally
        {
            publish?.Invoke(new RunEnded(request.RunId, request.VmUuid, status.Name()));
        }
    }

    /// <summary>The run's end line and metrics (<see cref="RunLogging"/>, <see cref="RunMetrics"/>).</summary>
    private void Ended(ReplicateVm request, RunResult result, TimeSpan duration)
    {
        Log.Ended(request, result, duration);
        RunMetrics.Ended(request, result, duration);
    }

    public Task CancelAllAsync(TimeSpan grace) => running.CancelAllAsync(grace);

    /// <summary>Each sample to the topic and to the entity.</summary>
    private Action<IRunProgressMessage> Forward(Action<RunProgress>? progress) => message =>
    {
        publish?.Invoke(message);
        if (message is RunProgress sample)
        {
            progress?.Invoke(sample);
        }
    };

    private Task<RunResult> AttemptAsync(ReplicateVm request, IMaterializer materializer, Action<IRunProgressMessage> forward,
        CancellationToken ct)
        => Sources is { } sources ? sources.RunAsync(request, forward, ct)
            : new LocalRun(pools, gate, remote) { Throttles = throttles, Mirrors = Mirrors }
                .RunAsync(request, materializer, new RunProgressTopic.Reporter(forward), ct);
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
