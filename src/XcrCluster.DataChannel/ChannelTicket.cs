namespace XcrCluster.DataChannel;

/// <summary>What the receiving agent hands the sender for one transfer (in an actor message): where to connect,
/// the one-time token that admits exactly one connection for this transfer, and, when the receiver speaks TLS,
/// the SHA-256 fingerprint of its certificate for the sender to pin.</summary>
public sealed record ChannelTicket(string TransferId, string Host, int Port, string Token, string? TlsSha256 = null)
{
    /// <summary>Masked: a ticket in a log line must not admit anyone.</summary>
    public override string ToString() => $"ChannelTicket {{ TransferId = {TransferId}, Host = {Host}, Port = {Port}, Token = ***, Tls = {TlsSha256 is not null} }}";

    /// <summary>The transport this ticket asks for: TLS pinned to the receiver's certificate, else the plain one.</summary>
    public IChannelTransport Transport(IChannelTransport plain) => TlsSha256 is { } pin ? new TlsChannelTransport(null, pin) : plain;
}

/// <summary>The receiver refused the transfer (wrong or reused token) or failed it; the message is the receiver's.</summary>
public sealed class ChannelRefusedException(string message) : IOException(message);
