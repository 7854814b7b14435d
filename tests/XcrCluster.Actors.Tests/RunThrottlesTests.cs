using XcrCluster.Replication;

namespace XcrCluster.Actors.Tests;

/// <summary>maxExportRate is one limit for the whole job run (Xen Orchestra: one Throttle per run, shared by every disk of
/// every VM): the agent's registry hands every VM of a run the same bucket. On a clock that never moves, a bucket gives one
/// second of bytes and then makes the next take wait: a second VM of the same run waits, a VM of another run does not.</summary>
public sealed class RunThrottlesTests
{
    private const long Rate = 1_000_000;

    [Fact]
    public async Task The_vms_of_one_run_draw_from_one_bucket_another_run_from_its_own_and_the_last_vm_releases_it()
    {
        var throttles = new RunThrottles(new FrozenTime());
        using var cancel = new CancellationTokenSource();
        var first = throttles.Take("run-1", Rate);
        var second = throttles.Take("run-1", Rate);
        var other = throttles.Take("run-2", Rate);
        Assert.Same(first.Throttle, second.Throttle);
        Assert.NotSame(first.Throttle, other.Throttle);
        Assert.Equal(2, throttles.Count);

        await first.Throttle!.TakeAsync(Rate, cancel.Token); // the bucket's second of bytes, at once
        var waiting = second.Throttle!.TakeAsync(Rate, cancel.Token);
        Assert.False(waiting.IsCompleted); // the run's second VM waits for the bucket: the rate is the run's, not the VM's
        await other.Throttle!.TakeAsync(Rate, cancel.Token); // another run: its own bucket

        first.Dispose();
        first.Dispose();
        Assert.Equal(2, throttles.Count);
        second.Dispose();
        other.Dispose();
        Assert.Equal(0, throttles.Count);
        Assert.NotSame(second.Throttle, throttles.Take("run-1", Rate).Throttle); // a later attempt starts a new bucket
        Assert.Null(throttles.Take("run-3", 0).Throttle); // 0: unlimited
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}

/// <summary>Time that never passes: a delay never ends (only its cancellation does).</summary>
internal sealed class FrozenTime : TimeProvider
{
    public override long GetTimestamp() => 0;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new Never();

    private sealed class Never : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
