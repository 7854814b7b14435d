using System.Collections.Concurrent;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>Cancellation signals for tasks something waits on (a hung call): task.cancel fires the task's
/// token. Entries exist only while a waiter holds one, so the table stays as small as the waits.</summary>
public sealed class TaskSignals
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> sources = new(StringComparer.Ordinal);

    public CancellationToken Token(string taskRef) => sources.GetOrAdd(taskRef, _ => new CancellationTokenSource()).Token;

    /// <summary>Fires the task's token on the thread pool, so no waiter runs under the caller's database lock.</summary>
    public void Cancel(string taskRef)
    {
        if (sources.TryGetValue(taskRef, out var source))
        {
            _ = source.CancelAsync();
        }
    }

    public void Forget(string taskRef) => sources.TryRemove(taskRef, out _);
}
