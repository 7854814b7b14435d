using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>One XAPI call being served: the pool, who asked (session), which host received it, and the arguments.</summary>
public sealed class Call(SimPool pool, string method, Args args, string? session, string hostRef)
{
    public SimPool Pool { get; } = pool;

    public XapiDatabase Db => Pool.Db;

    public string Method { get; } = method;

    public Args Args { get; } = args;

    public string? Session { get; } = session;

    public string HostRef { get; } = hostRef;

    /// <summary>The task an Async.* call runs in, for progress and cancellation.</summary>
    public XapiObject? Task { get; init; }

    /// <summary>Time the call only waited (event.from's long poll for a change, the database lock another call held): not
    /// serving time.</summary>
    public TimeSpan Waited { get; set; }

    public XapiObject Get(ClassSchema schema, int arg) => Db.Get(schema, Args.String(arg));
}

/// <summary>A message: its wire name, parameter count after the session (required + optional), and handler.
/// Sync handlers run under the database lock; async ones take it themselves when they need it.</summary>
public sealed record MethodSpec(string Name, int Required, int Optional = 0, Func<Call, object?>? Handler = null,
    Func<Call, Task<object?>>? AsyncHandler = null, bool AsyncCapable = true);
