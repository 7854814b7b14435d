namespace XcrCluster.DataChannel;

/// <summary>What the receiving agent hands the sender for one transfer (in an actor message): where to connect and
/// the one-time token that admits exactly one connection for this transfer.</summary>
public sealed record ChannelTicket(string TransferId, string Host, int Port, string Token)
{
    /// <summary>Masked: a ticket in a log line must not admit anyone.</summary>
    public override string ToString() => $"ChannelTicket {{ TransferId = {TransferId}, Host = {Host}, Port = {Port}, Token = *** }}";
}

/// <summary>The receiver refused the transfer (wrong or reused token) or failed it; the message is the receiver's.</summary>
public sealed class ChannelRefusedException(string message) : IOException(message);
