namespace XcrCluster.XapiSim;

/// <summary>Faults tests switch on under /sim/faults. Zero or null means off.</summary>
public sealed class Faults
{
    /// <summary>At most this many failCalls or malformedReplies rules are held (each list).</summary>
    public const int MaxRules = 100;

    private readonly CountedRules<CallFailure> failCalls = new(r => r.Method, r => r.Nth);
    private readonly CountedRules<MalformedReply> malformedReplies = new(r => r.Method, r => r.Nth);
    private int sessionInvalidNext;
    private IReadOnlySet<string> hangCalls = new HashSet<string>();
    private TaskCompletionSource hangRelease = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int hung;

    /// <summary>Export bodies are sent at most this fast (bytes/s).</summary>
    public long ExportBytesPerSecond { get; set; }

    public long ImportBytesPerSecond { get; set; }

    /// <summary>The connection is reset after this many body bytes of an export or import.</summary>
    public long ResetExportAfterBytes { get; set; }

    public long ResetImportAfterBytes { get; set; }

    /// <summary>Every SR reports itself full: creations and imports fail with SR_BACKEND_FAILURE_44.</summary>
    public bool SrFull { get; set; }

    public TimeSpan CallLatency { get; set; }

    /// <summary>Guests started from now on run without a guest agent: VM.start leaves guest_metrics null, as XAPI does
    /// until a guest agent reports (ocaml/xapi/xapi_guest_agent.ml creates VM_guest_metrics then), so a health check or
    /// failover test waits for a guest that never answers.</summary>
    public bool NoGuestAgent { get; set; }

    /// <summary>Members answer exports with a 302 to the master (the host holding the SR), as XAPI does.</summary>
    public bool RedirectExports { get; set; }

    /// <summary>Export bodies are sent chunked instead of ending at connection close as XAPI sends them.</summary>
    public bool ChunkedExports { get; set; }

    /// <summary>/jsonrpc answers like an old host's XML-RPC handler (text/xml), so clients must fall back to XML-RPC.</summary>
    public bool DisableJsonRpc { get; set; }

    /// <summary>failCalls not fired yet.</summary>
    public IReadOnlyList<CallFailure> FailCalls => failCalls.Pending;

    /// <summary>Replaces the failCalls rules; their counts start now.</summary>
    public void SetFailCalls(IEnumerable<CallFailure> rules) => failCalls.Set(Bounded(rules));

    /// <summary>Adds one failCalls rule, counted from now.</summary>
    public void FailCall(string method, int nth = 1, string code = "INTERNAL_ERROR", params string[] parameters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nth, 1);
        failCalls.Add(new CallFailure(method, nth, code, parameters));
    }

    /// <summary>Counts a call of <paramref name="method"/> (without "Async."); the rule that fires, if any.</summary>
    public CallFailure? TakeCallFailure(string method) => failCalls.Take(method);

    /// <summary>Methods (without "Async.") whose calls never complete until their task is cancelled or the faults
    /// are cleared.</summary>
    public IReadOnlyCollection<string> HangCalls
    {
        get => (IReadOnlyCollection<string>)Volatile.Read(ref hangCalls);
        set => Volatile.Write(ref hangCalls, Bounded(value).ToHashSet(StringComparer.Ordinal));
    }

    public bool Hangs(string method) => Volatile.Read(ref hangCalls).Contains(method);

    private long hangAfterCalls;
    private long callsTowardHang;

    /// <summary>After this many more calls (any method but login), every call hangs as with <see cref="HangCalls"/>: a
    /// test stops the pool's world at a chosen call, e.g. to kill -9 the node there. Zero is off.</summary>
    public long HangAfterCalls
    {
        get => Interlocked.Read(ref hangAfterCalls);
        set
        {
            Interlocked.Exchange(ref callsTowardHang, 0);
            Interlocked.Exchange(ref hangAfterCalls, value);
        }
    }

    /// <summary>Counts one call toward <see cref="HangAfterCalls"/>; true once the calls allowed have been made.</summary>
    public bool PastHangPoint() => Interlocked.Read(ref hangAfterCalls) is > 0 and var n && Interlocked.Increment(ref callsTowardHang) > n;

    /// <summary>A call is held by <see cref="HangAfterCalls"/> (the world of this pool stopped there).</summary>
    public bool HangPointReached => Interlocked.Read(ref hangAfterCalls) is > 0 and var n && Interlocked.Read(ref callsTowardHang) > n;

    /// <summary>Waits, without a thread, until the faults are cleared (returns) or <paramref name="cancel"/>
    /// fires (throws OperationCanceledException).</summary>
    public async Task HangAsync(CancellationToken cancel)
    {
        Interlocked.Increment(ref hung);
        try
        {
            await Volatile.Read(ref hangRelease).Task.WaitAsync(cancel).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref hung);
        }
    }

    /// <summary>Calls held right now by a hang fault: a test knows its call reached the pool before it releases them.</summary>
    public int HungCalls => Volatile.Read(ref hung);

    public IReadOnlyList<MalformedReply> MalformedReplies => malformedReplies.Pending;

    public void SetMalformedReplies(IEnumerable<MalformedReply> rules) => malformedReplies.Set(Bounded(rules));

    public void MalformedReplyTo(string method, int nth = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nth, 1);
        malformedReplies.Add(new MalformedReply(method, nth));
    }

    /// <summary>Counts a reply for <paramref name="method"/> (without "Async."); true when it must be malformed.</summary>
    public bool TakeMalformedReply(string method) => malformedReplies.Take(method) is not null;

    /// <summary>An export body ends after this many bytes with a clean close; its task still succeeds.</summary>
    public long CloseExportAfterBytes { get; set; }

    /// <summary>The export body is sent whole, then its task fails with VDI_IO_ERROR.</summary>
    public bool FailExportTask { get; set; }

    /// <summary>Exports are answered "HTTP/1.1 500 Internal Error" and their task fails.</summary>
    public bool ExportStatus500 { get; set; }

    /// <summary>After this many body bytes the export's task is cancelled and the connection closed.</summary>
    public long CancelExportAfterBytes { get; set; }

    /// <summary>Exports with base= fail as XAPI's when the differences cannot be computed.</summary>
    public bool FailDeltaExports { get; set; }

    /// <summary>Event streams a test kills (<see cref="EventStreams.KillAll"/>): the killed event.from fails with
    /// EVENTS_LOST, so a client following events must start over (log in, reload, follow again).</summary>
    public EventStreams EventStreams { get; } = new();

    public void SessionInvalidOnNextCall() => Interlocked.Exchange(ref sessionInvalidNext, 1);

    public bool TakeSessionInvalid() => Interlocked.Exchange(ref sessionInvalidNext, 0) == 1;

    public void Clear()
    {
        ExportBytesPerSecond = ImportBytesPerSecond = ResetExportAfterBytes = ResetImportAfterBytes = 0;
        CloseExportAfterBytes = CancelExportAfterBytes = 0;
        SrFull = RedirectExports = DisableJsonRpc = ChunkedExports = NoGuestAgent = false;
        FailExportTask = ExportStatus500 = FailDeltaExports = false;
        CallLatency = TimeSpan.Zero;
        Interlocked.Exchange(ref sessionInvalidNext, 0);
        failCalls.Set([]);
        EventStreams.Clear();
        malformedReplies.Set([]);
        HangCalls = [];
        HangAfterCalls = 0;
        ReleaseHungCalls();
    }

    /// <summary>Hung calls go on (and fail, doing nothing); calls hanging later wait for the next release.</summary>
    public void ReleaseHungCalls()
    {
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref hangRelease, next).TrySetResult();
    }

    private static List<T> Bounded<T>(IEnumerable<T> rules)
    {
        var list = rules.Take(MaxRules + 1).ToList();
        return list.Count <= MaxRules ? list : throw new ArgumentException($"at most {MaxRules} rules");
    }
}
