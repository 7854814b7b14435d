namespace XcrCluster.Xapi.Tests;

/// <summary>An export's 302 is followed only to a host of the same pool (by the hosts' address fields) and with
/// the same scheme: anything else would hand the session to whoever the reply names.</summary>
public sealed class RedirectPolicyTests
{
    /// <summary>A one-host pool at 127.0.0.1 that redirects every export to <paramref name="location"/>.</summary>
    private static HostileXapiServer PoolRedirectingTo(Func<HostileRequest, string> location)
        => HostileXapiServer.Start(HostileXapiServer.LoginThen(r => r switch
    {
        { RpcMethod: "task.create" } => HostileReply.Result("OpaqueRef:task"),
        { RpcMethod: "host.get_all_records" } => HostileReply.Result(new Dictionary<string, object?>
        {
            ["OpaqueRef:host"] = new Dictionary<string, object?> { ["uuid"] = "h", ["name_label"] = "master", ["address"] = "127.0.0.1" },
        }),
        { RpcMethod: null, HttpMethod: "GET" } => HostileReply.Redirect(location(r)),
        _ => HostileReply.Result(""),
    }));

    [Fact]
    public async Task A_redirect_to_a_host_outside_the_pool_is_refused_and_never_contacted()
    {
        await using var stranger = HostileXapiServer.Start(address: "127.0.0.2");
        await using var pool = PoolRedirectingTo(r => new Uri(stranger.Url, r.Target).ToString());
        await using var client = await XapiClient.ConnectAsync(HostileServerTests.Endpoint(pool));
        var e = await Assert.ThrowsAnyAsync<XapiException>(() => client.ExportVdiAsync("OpaqueRef:vdi", VdiFormat.Raw));
        Assert.Equal("XCR_PROTOCOL_ERROR", e.Code);
        Assert.Contains($"http://{stranger.Authority}/export_raw_vdi/", e.Message);
        Assert.DoesNotContain("hostile-session", e.Message);
        Assert.Empty(stranger.Requests);
        Assert.Contains("host.get_all_records", pool.Requests);
    }

    [Fact]
    public async Task A_redirect_to_another_scheme_is_refused()
    {
        await using var pool = PoolRedirectingTo(r => $"https://127.0.0.1:1{r.Target}");
        await using var client = await XapiClient.ConnectAsync(HostileServerTests.Endpoint(pool));
        var e = await Assert.ThrowsAnyAsync<XapiException>(() => client.ExportVdiAsync("OpaqueRef:vdi", VdiFormat.Raw));
        Assert.Equal("XCR_PROTOCOL_ERROR", e.Code);
        Assert.Contains("https://127.0.0.1:1/export_raw_vdi/", e.Message);
    }
}
