using Akka.Streams;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Carries out one run of one VM and reports it; the entity never waits on it.</summary>
public interface IRunExecutor
{
    /// <summary>Runs the request; its streams run on <paramref name="materializer"/> (the entity's, so they stop with it).</summary>
    Task<RunResult> ExecuteAsync(ReplicateVm request, IMaterializer materializer, CancellationToken ct);

    /// <summary>The node is stopping: cancels every run and waits (up to <paramref name="grace"/>) for each to
    /// remove what it made on the pools.</summary>
    Task CancelAllAsync(TimeSpan grace);
}
