using System.Collections.Concurrent;
using System.Diagnostics;
using XcrCluster.Xapi;

namespace XcrCluster.XapiSim.Storage;

/// <summary>A continuous guest writer's state: its rate, what it wrote so far, and why it stopped by itself if it did.</summary>
public sealed record GuestStreamStatus(string Vm, long BytesPerSecond, IReadOnlyList<int> Disks, long Bytes, int Blocks,
    DateTimeOffset Started, bool Running, string? Error);

/// <summary>
/// Guests that write all the time (`xcr-xapi-sim guest-write --mb-per-second N`, POST /sim/guest-write/continuous): per VM,
/// a loop that writes random 2 MiB blocks (<see cref="GuestWorkload.Write"/>) into its disks in turn, at the rate asked on
/// average (<see cref="BlocksDue"/>: whole blocks, caught up after a slow write), until stopped or until a write fails (the
/// VM or its disk is gone). One writer per VM: starting again replaces it. Outside XAPI, like the one-shot guest write.
/// </summary>
public sealed class GuestStreams(SimPool pool) : IAsyncDisposable
{
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(50);
    private readonly ConcurrentDictionary<string, Writer> writers = new(StringComparer.Ordinal);

    /// <summary>How many whole blocks a writer at <paramref name="bytesPerSecond"/> has to have written after
    /// <paramref name="elapsed"/>. Pure.</summary>
    public static long BlocksDue(long bytesPerSecond, TimeSpan elapsed, int blockSize)
        => (long)(bytesPerSecond * elapsed.TotalSeconds / blockSize);

    /// <summary>Starts (or restarts) the VM's writer on disk <paramref name="disk"/> or, when null, on every disk in turn.</summary>
    public async Task<GuestStreamStatus> StartAsync(string vm, long bytesPerSecond, int? disk, int seed)
    {
        var count = GuestWorkload.DiskCount(pool, vm);
        if (bytesPerSecond <= 0 || disk is { } d && (d < 0 || d >= count) || count == 0)
        {
            throw new XapiException("VM_HAS_NO_SUCH_DISK", vm, disk?.ToString() ?? "any");
        }

        await StopAsync(vm).ConfigureAwait(false);
        var writer = new Writer(vm, bytesPerSecond, disk is { } one ? [one] : [.. Enumerable.Range(0, count)], seed);
        writers[vm] = writer;
        writer.Loop = Task.Run(() => writer.RunAsync(pool));
        return writer.Status();
    }

    /// <summary>Stops the VM's writer and waits for its last block; its final state, or null when none was started.</summary>
    public async Task<GuestStreamStatus?> StopAsync(string vm)
    {
        if (!writers.TryRemove(vm, out var writer))
        {
            return null;
        }

        await writer.Cancel.CancelAsync().ConfigureAwait(false);
        await writer.Loop.ConfigureAwait(false);
        return writer.Status();
    }

    public IReadOnlyList<GuestStreamStatus> List() => [.. writers.Values.Select(w => w.Status())];

    public async ValueTask DisposeAsync()
    {
        foreach (var vm in writers.Keys.ToList())
        {
            await StopAsync(vm).ConfigureAwait(false);
        }
    }

    private sealed class Writer(string vm, long bytesPerSecond, IReadOnlyList<int> disks, int seed)
    {
        private readonly DateTimeOffset started = DateTimeOffset.UtcNow;
        private long bytes;
        private int blocks;
        private string? error;

        public CancellationTokenSource Cancel { get; } = new();

        public Task Loop { get; set; } = Task.CompletedTask;

        public GuestStreamStatus Status()
            => new(vm, bytesPerSecond, disks, Interlocked.Read(ref bytes), Volatile.Read(ref blocks), started, !Loop.IsCompleted, error);

        public async Task RunAsync(SimPool pool)
        {
            var rng = new Random(seed);
            var clock = Stopwatch.StartNew();
            try
            {
                while (!Cancel.IsCancellationRequested)
                {
                    while (blocks < BlocksDue(bytesPerSecond, clock.Elapsed, VhdBlockSize) && !Cancel.IsCancellationRequested)
                    {
                        GuestWorkload.Write(pool, vm, disks[blocks % disks.Count], 1, rng.Next());
                        Interlocked.Add(ref bytes, VhdBlockSize);
                        Interlocked.Increment(ref blocks);
                    }

                    await Task.Delay(Pace, Cancel.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e) when (e is XapiException or IOException)
            {
                error = e.Message;
            }
        }

        private static int VhdBlockSize => (int)Vhd.VhdConstants.DefaultBlockSize;
    }
}
