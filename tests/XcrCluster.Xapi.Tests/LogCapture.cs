using System.Collections.Concurrent;

namespace XcrCluster.Xapi.Tests;

/// <summary>Collects the client's log lines so tests can assert on them (and that no secret is among them).</summary>
public sealed class LogCapture
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyCollection<string> Lines => lines;

    public void Add(string line) => lines.Enqueue(line);

    public XapiClientOptions Options(XapiClientOptions? options = null) => (options ?? new XapiClientOptions()) with { Log = Add };
}
