namespace XcrCluster.Xapi;

public sealed record XapiClientOptions
{
    /// <summary>"auto" (JSON-RPC, falling back to XML-RPC), "json" or "xml".</summary>
    public string Transport { get; init; } = "auto";

    /// <summary>Bound on one ordinary call; event.from waits are bounded by their own timeout.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A transfer that moves no byte for this long fails instead of hanging.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Retries of read-only calls on connection errors (never of calls that change state).</summary>
    public int ReadRetries { get; init; } = 3;

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Receives one line per notable event (login, redirect, retry, relogin); never a secret.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Origin reported to XAPI in session.login_with_password.</summary>
    public string Originator { get; init; } = "xcr";
}
