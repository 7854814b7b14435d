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

    public const long DefaultMaxResponseBytes = 64L << 20;

    /// <summary>Largest RPC reply read (bytes; 1 to 2 GiB). 64 MiB is many times the largest reply of a big pool
    /// (get_all_records of thousands of VMs is a few MiB), yet small enough that a broken or hostile server
    /// cannot exhaust the process's memory: the body is never buffered past it.</summary>
    public long MaxResponseBytes { get; init; } = DefaultMaxResponseBytes;

    /// <summary>Default bound on waiting for a pool task (a caller may pass its own). Two hours is far beyond
    /// what the tasks this client waits on take on a healthy pool (snapshot, clone, resize, destroy, and an
    /// import or export task that settles once its body has moved: seconds to minutes even on slow storage),
    /// yet a task a broken pool never settles no longer holds its caller, and its replication slot, forever:
    /// when the bound passes the task is cancelled on the pool and the wait fails with a TimeoutException.</summary>
    public TimeSpan TaskTimeout { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Retries of read-only calls on connection errors (never of calls that change state).</summary>
    public int ReadRetries { get; init; } = 3;

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Receives one line per notable event (login, redirect, retry, relogin); never a secret.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Origin reported to XAPI in session.login_with_password.</summary>
    public string Originator { get; init; } = "xcr";

    /// <summary>How this process names itself to XAPI on every request (real XAPI logs it): a node sets
    /// <see cref="ProcessUserAgent"/> once it knows its cluster address, so a pool's logs tell which node read or wrote.</summary>
    public string UserAgent { get; init; } = ProcessUserAgent;

    /// <summary>Tests only: wraps each connection's stream (what the HTTP stack writes to the socket).</summary>
    internal Func<Stream, Stream>? ConnectionWrapper { get; init; }

    /// <summary>The User-Agent of clients made without one: <c>xcr/VERSION</c> until the process names itself.</summary>
    public static string ProcessUserAgent { get; set; } = $"xcr/{typeof(XapiClientOptions).Assembly.GetName().Version?.ToString(3)}";
}
