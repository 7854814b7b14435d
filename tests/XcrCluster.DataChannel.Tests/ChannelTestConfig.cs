namespace XcrCluster.DataChannel.Tests;

/// <summary>The actor system of the channel tests: small TCP buffers and frames, so backpressure shows within a few blocks.</summary>
internal static class ChannelTestConfig
{
    public const string Hocon = """
        akka.loglevel = WARNING
        akka.io.tcp { receive-buffer-size = 1m, send-buffer-size = 1m, maximum-frame-size = 512k }
        """;
}
