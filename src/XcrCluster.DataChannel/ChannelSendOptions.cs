namespace XcrCluster.DataChannel;

/// <summary>How this node sends blocks to another node's channel: LZ4 or not, and how long a transfer may move nothing
/// before the sender fails it (the same bound the receiving side applies, <see cref="ChannelLimits.StallTimeout"/>).</summary>
public sealed record ChannelSendOptions(bool Compress = false, TimeSpan? StallTimeout = null)
{
    public static ChannelSendOptions Default { get; } = new();
}
