namespace XcrCluster.DataChannel;

/// <summary>What a receiving node grants peers before they prove who they are, and how long transfers may wait.
/// Every connection costs at most a hello (<see cref="Frames.MaxHello"/>) until its token is accepted.</summary>
public sealed record ChannelLimits
{
    /// <summary>Connections open at once (transfers and peers still saying hello); beyond it new ones are closed
    /// at once and logged.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>The time a connection has to send a valid hello; a TLS handshake is bounded by it too.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an issued ticket waits for its sender; then it is forgotten (and its token refused).</summary>
    public TimeSpan TicketLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A connection on which nothing arrives for this long fails its transfer.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Refuses limits that could not act (zero or negative), with the setting at fault.</summary>
    public ChannelLimits Validated()
    {
        Positive(MaxConnections, nameof(MaxConnections));
        Positive(HandshakeTimeout.Ticks, nameof(HandshakeTimeout));
        Positive(TicketLifetime.Ticks, nameof(TicketLifetime));
        Positive(StallTimeout.Ticks, nameof(StallTimeout));
        return this;
    }

    private static void Positive(long value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, $"data channel: {name} must be positive");
        }
    }
}
