using System.Collections.Concurrent;
using System.Diagnostics;

namespace XcrCluster.XapiSim;

/// <summary>What really crossed the wire, per endpoint and per VDI, so tests need not trust the product's report.</summary>
public sealed class Stats
{
    private readonly ConcurrentDictionary<string, Counter> endpoints = new();
    private readonly ConcurrentDictionary<string, Counter> vdis = new();
    private readonly ConcurrentDictionary<string, long> calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter> agents = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> servingTicks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> waitingTicks = new(StringComparer.Ordinal);
    private readonly Lock busyGate = new();
    private int serving;
    private long busySince;
    private long busyTicks;

    /// <summary>At most this many distinct User-Agents are told apart; later ones count as "other".</summary>
    public const int MaxAgents = 64;

    private Counter Agent(string? userAgent)
    {
        var name = string.IsNullOrEmpty(userAgent) ? "(none)" : userAgent.Length > 200 ? userAgent[..200] : userAgent;
        return agents.TryGetValue(name, out var known) ? known
            : agents.GetOrAdd(agents.Count < MaxAgents ? name : "other", _ => new Counter());
    }

    /// <summary>Requests and bytes per User-Agent: which client (which node) read and wrote what.</summary>
    public IReadOnlyDictionary<string, (long Requests, long Exported, long Imported)> ByAgent()
        => agents.ToDictionary(p => p.Key, p => (p.Value.Requests, p.Value.Exported, p.Value.Imported), StringComparer.Ordinal);

    /// <summary>One XAPI call of a method the pool knows (Async.X counted as X), so tests can name "the nth call of X".</summary>
    public void Call(string method) => calls.AddOrUpdate(method, 1, (_, n) => n + 1);

    /// <summary>Calls of each method so far (bounded by the methods the pool knows).</summary>
    public IReadOnlyDictionary<string, long> CallCounts() => calls.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>One call of a method the pool knows (an Async.X call's task included): <paramref name="serving"/> the time
    /// the simulator worked on it, <paramref name="waiting"/> the time it only waited (event.from's long poll for a change,
    /// the database lock another call held), so a benchmark can tell the simulator's own cost from the client's.</summary>
    public void Served(string method, TimeSpan serving, TimeSpan waiting = default)
    {
        servingTicks.AddOrUpdate(method, serving.Ticks, (_, ticks) => ticks + serving.Ticks);
        waitingTicks.AddOrUpdate(method, waiting.Ticks, (_, ticks) => ticks + waiting.Ticks);
    }

    /// <summary>Serving time of each method so far, waits left out (bounded by the methods the pool knows); calls served
    /// at once still add up outside the lock, so the sum can exceed the wall time that passed: <see cref="Busy"/> cannot.</summary>
    public IReadOnlyDictionary<string, TimeSpan> ServingTimes() => Times(servingTicks);

    /// <summary>Time each method's calls only waited (long poll, another call's lock): a call took serving + waiting.</summary>
    public IReadOnlyDictionary<string, TimeSpan> WaitingTimes() => Times(waitingTicks);

    /// <summary>A call (or its task) starts being served; <see cref="Idle"/> ends it. A long poll is idle while it waits.</summary>
    public void Serving()
    {
        lock (busyGate)
        {
            if (serving++ == 0)
            {
                busySince = Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>A call (or its task) stops being served, for good or while it waits for a change.</summary>
    public void Idle()
    {
        lock (busyGate)
        {
            if (--serving == 0)
            {
                busyTicks += Stopwatch.GetElapsedTime(busySince).Ticks;
            }
        }
    }

    /// <summary>Wall time during which at least one call was being served (calls at once counted once, long polls'
    /// waits not at all): the part of a client's wall time the simulator can account for.</summary>
    public TimeSpan Busy()
    {
        lock (busyGate)
        {
            return TimeSpan.FromTicks(busyTicks + (serving > 0 ? Stopwatch.GetElapsedTime(busySince).Ticks : 0));
        }
    }

    private static Dictionary<string, TimeSpan> Times(ConcurrentDictionary<string, long> ticks)
        => ticks.ToDictionary(p => p.Key, p => TimeSpan.FromTicks(p.Value), StringComparer.Ordinal);

    public void Request(string endpoint, string? userAgent = null)
    {
        endpoints.GetOrAdd(endpoint, _ => new Counter()).AddRequest();
        Agent(userAgent).AddRequest();
    }

    public void Exported(string endpoint, string vdiUuid, long bytes, string? userAgent = null)
    {
        endpoints.GetOrAdd(endpoint, _ => new Counter()).AddExported(bytes);
        vdis.GetOrAdd(vdiUuid, _ => new Counter()).AddExported(bytes);
        Agent(userAgent).AddExported(bytes);
    }

    public void Imported(string endpoint, string vdiUuid, long bytes, string? userAgent = null)
    {
        endpoints.GetOrAdd(endpoint, _ => new Counter()).AddImported(bytes);
        vdis.GetOrAdd(vdiUuid, _ => new Counter()).AddImported(bytes);
        Agent(userAgent).AddImported(bytes);
    }

    /// <summary>Requests an endpoint has served so far (0 if none).</summary>
    public long Requests(string endpoint) => endpoints.TryGetValue(endpoint, out var c) ? c.Requests : 0;

    /// <summary>Body bytes an endpoint has sent (exports) so far.</summary>
    public long BytesExported(string endpoint) => endpoints.TryGetValue(endpoint, out var c) ? c.Exported : 0;

    /// <summary>Body bytes an endpoint has received (imports) so far.</summary>
    public long BytesImported(string endpoint) => endpoints.TryGetValue(endpoint, out var c) ? c.Imported : 0;

    /// <summary>Requests and body bytes exported of one VDI so far (0 if none).</summary>
    public (long Requests, long Exported) OfVdi(string vdiUuid)
        => vdis.TryGetValue(vdiUuid, out var c) ? (c.Requests, c.Exported) : (0, 0);

    public void VdiRequest(string vdiUuid) => vdis.GetOrAdd(vdiUuid, _ => new Counter()).AddRequest();

    public object Snapshot() => new
    {
        endpoints = endpoints.ToDictionary(p => p.Key, p => p.Value.ToJson()),
        vdis = vdis.ToDictionary(p => p.Key, p => p.Value.ToJson()),
        calls = CallCounts(),
        servingSeconds = Seconds(ServingTimes()),
        waitingSeconds = Seconds(WaitingTimes()),
        busySeconds = Busy().TotalSeconds,
        agents = agents.ToDictionary(p => p.Key, p => p.Value.ToJson()),
    };

    public void Clear()
    {
        endpoints.Clear();
        vdis.Clear();
        calls.Clear();
        agents.Clear();
        servingTicks.Clear();
        waitingTicks.Clear();
        lock (busyGate)
        {
            busyTicks = 0;
            busySince = Stopwatch.GetTimestamp();
        }
    }

    private static Dictionary<string, double> Seconds(IReadOnlyDictionary<string, TimeSpan> times)
        => times.ToDictionary(p => p.Key, p => p.Value.TotalSeconds, StringComparer.Ordinal);

    private sealed class Counter
    {
        private long requests;
        private long exported;
        private long imported;

        public long Requests => Interlocked.Read(ref requests);

        public long Exported => Interlocked.Read(ref exported);

        public long Imported => Interlocked.Read(ref imported);

        public void AddRequest() => Interlocked.Increment(ref requests);

        public void AddExported(long bytes) => Interlocked.Add(ref exported, bytes);

        public void AddImported(long bytes) => Interlocked.Add(ref imported, bytes);

        public object ToJson() => new { requests = Requests, bytesExported = Exported, bytesImported = Imported };
    }
}
