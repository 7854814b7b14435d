using System.Collections.Concurrent;

namespace XcrCluster.Actors;

/// <summary>The runs going on this node (the executor's attempts, or the source sessions of its pool agents): each
/// with its cancellation, so a node that stops cancels them all and gives them a grace to clean up on the pools while
/// it is still a member of the cluster.</summary>
public sealed class RunRegistry
{
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Cancel, Task Run)> active = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="run"/> with a token cancelled by <paramref name="ct"/> or by <see cref="CancelAllAsync"/>.</summary>
    public async Task<T> TrackAsync<T>(string id, Func<CancellationToken, Task<T>> run, CancellationToken ct)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var key = $"{id}/{Guid.NewGuid():N}";
        active[key] = (cancel, done.Task);
        try
        {
            return await run(cancel.Token).ConfigureAwait(false);
        }
        finally
        {
            active.TryRemove(key, out _);
            done.SetResult();
        }
    }

    public int Count => active.Count;

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
}
