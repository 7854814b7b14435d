using Akka.Streams;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Carries out one run of one VM and reports it; the entity never waits on it.</summary>
public interface IRunExecutor
{
    /// <summary>Runs the request; its streams run on <paramref name="materializer"/> (the entity's, so they stop with it) when
    /// the run is here. <paramref name="progress"/> gets the run's samples, in order (the entity keeps its milestones).</summary>
    Task<RunResult> ExecuteAsync(ReplicateVm request, IMaterializer materializer, CancellationToken ct,
        Action<RunProgress>? progress = null);

    /// <summary>The node is stopping: cancels every run and waits (up to <paramref name="grace"/>) for each to
    /// remove what it made on the pools.</summary>
    Task CancelAllAsync(TimeSpan grace);
}
