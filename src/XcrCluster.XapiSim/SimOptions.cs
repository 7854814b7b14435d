namespace XcrCluster.XapiSim;

/// <summary>How a simulated pool is started (command line or in-process from tests).</summary>
public sealed record SimOptions
{
    /// <summary>One address per host: the first is the pool master, the others members ("127.0.0.2:0" = the master's port).</summary>
    public IReadOnlyList<string> Listen { get; init; } = ["127.0.0.1:0"];

    public required string DataDir { get; init; }

    public string PoolName { get; init; } = "sim-pool";

    public string User { get; init; } = "root";

    public string Password { get; init; } = "password";

    public string? FixturePath { get; init; }

    /// <summary>A fixture given in-process (tests); wins over <see cref="FixturePath"/>.</summary>
    public Fixture? Fixture { get; init; }

    public bool Tls { get; init; }

    /// <summary>The xapi release the pool runs ("MAJOR.MINOR", see <see cref="XcrCluster.XapiSim.XapiVersion"/>): shown in
    /// host.software_version and the API version, and deciding which message parameters exist.</summary>
    public string XapiVersion { get; init; } = XcrCluster.XapiSim.XapiVersion.Current;

    /// <summary>How often the garbage collector looks for chains to coalesce; zero pauses it.</summary>
    public TimeSpan CollectorInterval { get; init; } = TimeSpan.FromSeconds(1);
}
