namespace XcrCluster.Xapi.Tests;

/// <summary>A pool that answers with a body that never ends, or announces a huge one, makes the client fail
/// in bounded time and memory with an error naming the endpoint, instead of buffering until it dies.</summary>
[Collection(Serial.Name)]
public sealed class HostileServerTests
{
    private const long DefaultCap = 64L << 20;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static XapiEndpoint Endpoint(HostileXapiServer server) => XapiEndpoint.Parse($"http://root:pw@{server.Authority}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connect_to_a_pool_whose_reply_never_ends_fails_at_the_cap_in_bounded_memory(bool chunked)
    {
        await using var server = HostileXapiServer.Start(_ => HostileReply.Endless(chunked: chunked));
        using var memory = new MemoryPeak();
        var e = await Assert.ThrowsAnyAsync<XapiException>(() => XapiClient.ConnectAsync(Endpoint(server)).WaitAsync(Bound));
        Assert.Equal("XCR_PROTOCOL_ERROR", e.Code);
        Assert.Contains(server.Authority, e.Message);
        Assert.Contains("64 MiB", e.Message);
        Assert.True(memory.PeakGrowth < DefaultCap + DefaultCap / 2, $"the heap grew by {memory.PeakGrowth >> 20} MiB at its peak");
        // Kept, not passing: buffers of the aborted read may still be on their way back for a moment (seen on a loaded machine:
        // one full collection found 8 MiB or more, the next one none), so the heap must settle under the bound, not be under
        // it at one instant.
        var kept = memory.RetainedGrowth;
        await Poll.UntilAsync(() => (kept = memory.RetainedGrowth) < DefaultCap / 8,
            $"the heap to give back what the read took (first kept {kept >> 20} MiB)", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_smaller_configured_cap_acts()
    {
        const long cap = 4L << 20;
        await using var server = HostileXapiServer.Start(_ => HostileReply.Endless());
        using var memory = new MemoryPeak();
        var options = new XapiClientOptions { MaxResponseBytes = cap };
        var e = await Assert.ThrowsAnyAsync<XapiException>(() => XapiClient.ConnectAsync(Endpoint(server), options).WaitAsync(Bound));
        Assert.Contains("over the 4 MiB response cap", e.Message);
        Assert.True(memory.PeakGrowth < DefaultCap / 2, $"the heap grew by {memory.PeakGrowth >> 20} MiB at its peak");
    }

    [Fact]
    public async Task A_huge_content_length_is_refused_before_reading_the_body()
    {
        await using var server = HostileXapiServer.Start(_ => HostileReply.HugeContentLength());
        using var memory = new MemoryPeak();
        var e = await Assert.ThrowsAnyAsync<XapiException>(() => XapiClient.ConnectAsync(Endpoint(server)).WaitAsync(Bound));
        Assert.Equal("XCR_PROTOCOL_ERROR", e.Code);
        Assert.Contains(server.Authority, e.Message);
        Assert.Contains("64 MiB", e.Message);
        Assert.Contains((1L << 40).ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.True(memory.PeakGrowth < DefaultCap / 4, $"the heap grew by {memory.PeakGrowth >> 20} MiB at its peak");
    }

    [Fact]
    public async Task A_reply_trickling_forever_fails_at_the_call_timeout_naming_the_endpoint()
    {
        await using var server = HostileXapiServer.Start(_ => HostileReply.Endless(pause: TimeSpan.FromMilliseconds(20)));
        var options = new XapiClientOptions { CallTimeout = TimeSpan.FromSeconds(2) };
        var e = await Assert.ThrowsAsync<TimeoutException>(() => XapiClient.ConnectAsync(Endpoint(server), options).WaitAsync(Bound));
        Assert.Contains(server.Authority, e.Message);
        Assert.Contains("session.login_with_password", e.Message);
        Assert.True(server.BytesSent > 0, "the server never started its reply");
    }
}
