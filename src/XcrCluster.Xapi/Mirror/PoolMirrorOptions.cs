namespace XcrCluster.Xapi.Mirror;

/// <summary>How a <see cref="PoolMirror"/> waits. Every wait is bounded: a reader that the mirror cannot serve in time
/// hears a <see cref="TimeoutException"/> (the engine then reads the pool directly).</summary>
public sealed record PoolMirrorOptions
{
    /// <summary>How long one event.from waits for a change (XAPI's own clients use 30 s).</summary>
    public TimeSpan EventTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The event loop calls event.from at most once per interval while no barrier waits (PoolMirror.Pacing.cs):
    /// a reader that wrote nothing sees changes at most this much later than an unpaced mirror would show them.</summary>
    public TimeSpan EventInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a reader waits for the mirror to be loaded (first load, or a reload after a failure).</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a barrier waits for the mirror to process the caller's event.inject token.</summary>
    public TimeSpan BarrierTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first pause before a reload after a failure; doubled per failure in a row up to the maximum.</summary>
    public TimeSpan ReloadDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxReloadDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After this many failed loads in a row readers no longer wait for the mirror: they are served directly
    /// until it is loaded again.</summary>
    public int FailuresBeforeBypass { get; init; } = 3;

    /// <summary>The mirror's own session (its call timeout must exceed <see cref="EventTimeout"/>).</summary>
    public XapiClientOptions Client { get; init; } = new();

    public Action<string>? Log { get; init; }
}
