using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Mirror;

/// <summary>
/// A live copy of one pool's objects, as Xen Orchestra's xen-api connector keeps: loaded once with get_all_records
/// per class, then kept current with event.from on its own long-lived session (PoolMirror.Loop.cs). Readers see
/// whole views only: while a failed stream is reloaded they wait (bounded) for the next complete load. A writer
/// reads its own writes back through <see cref="BarrierAsync"/>.
/// </summary>
public sealed partial class PoolMirror : IAsyncDisposable
{
    private readonly PoolMirrorOptions options;
    private readonly CancellationTokenSource stopping = new();
    private readonly object gate = new();
    private MirrorState? state;
    private TaskCompletionSource changed = NewSignal();
    private Task? loop;
    private int failures;
    private long loads;
    private bool disposed;

    public PoolMirror(XapiEndpoint endpoint, PoolMirrorOptions? options = null)
    {
        Endpoint = endpoint;
        this.options = options ?? new PoolMirrorOptions();
        if (this.options.Client.CallTimeout <= this.options.EventTimeout)
        {
            throw new ArgumentException("the client's call timeout must exceed the event timeout", nameof(options));
        }
    }

    /// <summary>The endpoint the mirror was made for (a registration whose endpoint changes gets a new mirror).</summary>
    public XapiEndpoint Endpoint { get; }

    /// <summary>The master the mirror's session is on (after any HOST_IS_SLAVE redirect); null before the first login.</summary>
    public XapiEndpoint? Master { get; private set; }

    /// <summary>A complete view is held.</summary>
    public bool IsReady => Volatile.Read(ref state) is not null;

    /// <summary>How many complete loads were made (1 after the first; one more per reload).</summary>
    public long Loads => Interlocked.Read(ref loads);

    /// <summary>The token of the last event.from batch applied (null while not loaded).</summary>
    public string? Token => Volatile.Read(ref state)?.Token;

    /// <summary>Starts the load and event loop (once).</summary>
    public PoolMirror Start()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            loop ??= Task.Run(() => RunAsync(stopping.Token));
        }

        return this;
    }

    /// <summary>Every mirrored object of <typeparamref name="T"/>, from one view.</summary>
    public async Task<IReadOnlyList<T>> AllAsync<T>(CancellationToken ct = default)
        where T : IXapiRecord<T>
        => (await ReadyAsync(ct).ConfigureAwait(false)).All<T>(Class<T>());

    /// <summary>Every mirrored object of <typeparamref name="T"/>, from one view, by ref and by the keys of
    /// <paramref name="index"/> (kept as events arrive from the first read on).</summary>
    public async Task<RecordSet<T>> SetAsync<T>(IRecordIndex index, CancellationToken ct = default)
        where T : class, IXapiRecord<T>
        => (await ReadyAsync(ct).ConfigureAwait(false)).Set<T>(Class<T>(), index);

    /// <summary>One object by ref; null when the view does not hold it.</summary>
    public async Task<T?> FindAsync<T>(string @ref, CancellationToken ct = default)
        where T : class, IXapiRecord<T>
        => (await ReadyAsync(ct).ConfigureAwait(false)).Of(Class<T>()).GetValueOrDefault(@ref) as T;

    /// <summary>Read-your-writes, as Xen Orchestra's barrier: <paramref name="caller"/> (the session that wrote) calls
    /// event.inject on the pool object; every change the caller made before has a generation at most that token
    /// (ocaml/xapi/xapi_event.ml, inject: the row is touched at generation g and g - 1 is returned; from: the token
    /// returned is the newest generation reported), so once the mirror has applied a batch whose token is at least
    /// it, the mirror shows those changes. Waits at most the barrier timeout.</summary>
    public async Task BarrierAsync(XapiClient caller, CancellationToken ct = default)
    {
        var view = await ReadyAsync(ct).ConfigureAwait(false);
        var token = caller.AsString("event.inject",
            await caller.CallAsync("event.inject", ["pool", view.PoolRef], ct).ConfigureAwait(false));
        BarrierWaiting();
        try
        {
            await WaitAsync(s => s is not null && EventToken.Compare(s.Token, token) >= 0, options.BarrierTimeout,
                $"to reach the event token {token}", ct).ConfigureAwait(false);
        }
        finally
        {
            BarrierDone();
        }
    }

    /// <summary>Stops the loop and logs out.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? running;
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            (disposed, running) = (true, loop);
        }

        await stopping.CancelAsync().ConfigureAwait(false);

        if (running is not null)
        {
            await running.ConfigureAwait(false);
        }

        stopping.Dispose();
    }

    private static string Class<T>()
        where T : IXapiRecord<T>
        => MirroredClass.Holds<T>() ? T.ClassName : throw new NotSupportedException($"{T.ClassName} is not mirrored");

    /// <summary>The current view, waiting (bounded) for a load; a mirror failing to load time after time is not waited for.</summary>
    private async Task<MirrorState> ReadyAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref state) is { } view)
        {
            return view;
        }

        if (Volatile.Read(ref failures) >= options.FailuresBeforeBypass)
        {
            throw new TimeoutException($"the mirror of the pool at {Endpoint} failed to load {failures} times in a row");
        }

        return await WaitAsync(s => s is not null, options.ReadyTimeout, "to load", ct).ConfigureAwait(false);
    }

    private async Task<MirrorState> WaitAsync(Func<MirrorState?, bool> done, TimeSpan bound, string what, CancellationToken ct)
    {
        using var expiry = CancellationTokenSource.CreateLinkedTokenSource(ct);
        expiry.CancelAfter(bound);
        while (true)
        {
            Task next;
            MirrorState? view;
            lock (gate)
            {
                (next, view) = (changed.Task, state);
            }

            if (done(view))
            {
                return view!;
            }

            try
            {
                await next.WaitAsync(expiry.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"the mirror of the pool at {Endpoint} did not manage {what} within {bound.TotalSeconds:0.#} s");
            }
        }
    }

    /// <summary>Publishes a view (null: not loaded) and wakes the waiters.</summary>
    private void Publish(MirrorState? view)
    {
        TaskCompletionSource previous;
        lock (gate)
        {
            state = view;
            previous = changed;
            changed = NewSignal();
        }

        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Log(string line) => options.Log?.Invoke($"mirror of {Endpoint.Url.Authority}: {line}");
}
