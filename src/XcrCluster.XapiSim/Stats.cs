using System.Collections.Concurrent;

namespace XcrCluster.XapiSim;

/// <summary>What really crossed the wire, per endpoint and per VDI, so tests need not trust the product's report.</summary>
public sealed class Stats
{
    private readonly ConcurrentDictionary<string, Counter> endpoints = new();
    private readonly ConcurrentDictionary<string, Counter> vdis = new();
    private readonly ConcurrentDictionary<string, long> calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Counter> agents = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> servingTicks = new(StringComparer.Ordinal);

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

    /// <summary>Time the simulator spent serving one call of a method the pool knows (an Async.X call's task included),
    /// so a benchmark can tell the simulator's own cost from the client's.</summary>
    public void Served(string method, TimeSpan time)
        => servingTicks.AddOrUpdate(method, time.Ticks, (_, ticks) => ticks + time.Ticks);

    /// <summary>Serving time of each method so far (bounded by the methods the pool knows); concurrent calls add up, so
    /// the sum can exceed the wall time that passed.</summary>
    public IReadOnlyDictionary<string, TimeSpan> ServingTimes()
        => servingTicks.ToDictionary(p => p.Key, p => TimeSpan.FromTicks(p.Value), StringComparer.Ordinal);

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
        servingSeconds = ServingTimes().ToDictionary(p => p.Key, p => p.Value.TotalSeconds, StringComparer.Ordinal),
        agents = agents.ToDictionary(p => p.Key, p => p.Value.ToJson()),
    };

    public void Clear()
    {
        endpoints.Clear();
        vdis.Clear();
        calls.Clear();
        agents.Clear();
        servingTicks.Clear();
    }

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
