using XcrCluster.Domain;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

internal static class Requests
{
    public static ReplicateVm For(string vm, string job, string run = "", string source = "a", string target = "b", string sr = "sr-1")
        => new(vm, run.Length > 0 ? run : Guid.NewGuid().ToString(), source, new JobRef(job, job + " name", job + "-schedule", "hourly"),
            [new TargetRef(target, sr)], new ReplicationSettings { CopyRetention = 2 });

    public static RunResult Success(string run, string point = "rp-1") => new(run, RunStatus.Success, null, true, "snap-1",
        [new TargetResult("sr-1", true, null, "target-vm", point, 4096)], [new LogLine("snapshot", "success", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, null, null)]);
}

/// <summary>An executor the test completes by hand, recording what it was asked to run.</summary>
internal sealed class ManualExecutor : IRunExecutor
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<RunResult>> runs = new();

    public IReadOnlyCollection<string> Started => [.. runs.Keys];

    public Task<RunResult> ExecuteAsync(ReplicateVm request, Akka.Streams.IMaterializer materializer, CancellationToken ct,
        Action<RunProgress>? progress = null)
    {
        var tcs = runs.GetOrAdd(request.RunId, _ => new TaskCompletionSource<RunResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        samples[request.RunId] = progress ?? (_ => { });
        ct.Register(() => tcs.TrySetCanceled());
        return tcs.Task;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Action<RunProgress>> samples = new();

    /// <summary>A progress sample of a started run, as the engine would report it.</summary>
    public void Report(RunProgress sample) => samples[sample.RunId](sample);

    public void Complete(RunResult result) => runs[result.RunId].SetResult(result);

    public Task CancelAllAsync(TimeSpan grace) => Task.CompletedTask;
}
