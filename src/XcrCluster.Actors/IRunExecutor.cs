using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>Carries out one run of one VM and reports it; the entity never waits on it.</summary>
public interface IRunExecutor
{
    Task<RunResult> ExecuteAsync(ReplicateVm request, CancellationToken ct);
}
