namespace XcrCluster.Xapi.Tests;

public sealed class EndpointTests
{
    [Fact]
    public void Percent_encoded_credentials_are_decoded_and_kept_out_of_the_url()
    {
        var endpoint = XapiEndpoint.Parse("https://root:p%40ss%3Aw0rd@xcp1.example:8443");
        Assert.Equal("root", endpoint.Credentials!.User);
        Assert.Equal("p@ss:w0rd", endpoint.Credentials.Password.Reveal());
        Assert.Equal("https://xcp1.example:8443/", endpoint.Url.ToString());
        Assert.DoesNotContain("p@ss", endpoint.ToString());
        Assert.DoesNotContain("p%40ss", endpoint.ToString());
        Assert.Equal("https://root:***@xcp1.example:8443/", endpoint.ToString());
    }

    [Fact]
    public void A_url_without_scheme_is_https_and_http_is_kept()
    {
        Assert.Equal("https", XapiEndpoint.Parse("pool.example").Url.Scheme);
        Assert.Equal("http", XapiEndpoint.Parse("http://127.0.0.1:80").Url.Scheme);
    }

    [Theory]
    [InlineData("ftp://root:hunter2@host")]
    [InlineData("https://root:hunter2@")]
    public void Bad_urls_are_refused_with_the_password_masked(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => XapiEndpoint.Parse(url));
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void Secrets_print_masked_everywhere()
    {
        var secret = new Secret("hunter2");
        var credentials = new XapiCredentials("root", secret);
        Assert.Equal("***", secret.ToString());
        Assert.DoesNotContain("hunter2", credentials.ToString());
        Assert.DoesNotContain("hunter2", new { credentials }.ToString());
        Assert.DoesNotContain("hunter2", XapiEndpoint.Mask("https://root:hunter2@h/"));
        Assert.True(XapiEndpoint.HasPasswordInUrl("https://root:hunter2@h/"));
        Assert.False(XapiEndpoint.HasPasswordInUrl("https://root@h/"));
    }

    [Fact]
    public void Fingerprints_accept_colons_and_case_and_refuse_garbage()
    {
        var hex = new string('a', 64);
        Assert.Equal(hex, XapiTls.Pinned(string.Join(':', Enumerable.Range(0, 32).Select(_ => "AA"))).PinnedSha256);
        Assert.Throws<ArgumentException>(() => XapiTls.Pinned("abc"));
    }
}
