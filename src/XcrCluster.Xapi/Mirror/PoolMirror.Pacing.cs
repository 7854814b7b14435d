using System.Diagnostics;

namespace XcrCluster.Xapi.Mirror;

/// <summary>The pace of the event loop. Every change wakes an event.from, and an import changes its task and VDI many
/// times a second: unpaced, one 4 GiB replication made the target's mirror call event.from 1 815 times in 20 s and
/// took CPU from the transfer on both sides (bench replication). So the loop calls event.from at most once per
/// <see cref="PoolMirrorOptions.EventInterval"/>, taking whatever changed meanwhile in one batch, except while a
/// barrier waits: then it goes at once, so read-your-writes stays as fast as the pool answers.</summary>
public sealed partial class PoolMirror
{
    private int barriers;
    private TaskCompletionSource barrierArrived = NewSignal();

    private void BarrierWaiting()
    {
        Interlocked.Increment(ref barriers);
        TaskCompletionSource arrived;
        lock (gate)
        {
            (arrived, barrierArrived) = (barrierArrived, NewSignal());
        }

        arrived.TrySetResult();
    }

    private void BarrierDone() => Interlocked.Decrement(ref barriers);

    /// <summary>Before the next event.from (the last one called at <paramref name="calledAt"/>): waits out the rest of the
    /// interval, or until a barrier waits.</summary>
    private async Task PaceAsync(long calledAt, CancellationToken stop)
    {
        var rest = options.EventInterval - Stopwatch.GetElapsedTime(calledAt);
        if (rest <= TimeSpan.Zero)
        {
            return;
        }

        Task arrived;
        lock (gate)
        {
            arrived = barrierArrived.Task;
        }

        // Read after the signal was taken: a barrier that came in between has counted itself already.
        if (Volatile.Read(ref barriers) > 0)
        {
            return;
        }

        await Task.WhenAny(arrived, Task.Delay(rest, stop)).ConfigureAwait(false);
        stop.ThrowIfCancellationRequested();
    }
}
