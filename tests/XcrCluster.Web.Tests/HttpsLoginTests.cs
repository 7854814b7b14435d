using Microsoft.Playwright;

namespace XcrCluster.Web.Tests;

/// <summary>A node serving HTTPS gives the dashboard's session cookie the Secure attribute.</summary>
public sealed class HttpsLoginTests : WebTest
{
    protected override bool Https => true;

    [Fact]
    public async Task Over_https_the_session_cookie_is_secure_httponly_and_strict()
    {
        Assert.Equal("https", Web.Node.Url.Scheme);
        await Web.LogInAsync();
        var cookie = Assert.Single(await Web.Browser.Context.CookiesAsync(), c => c.Name == "xcr_session");
        Assert.True(cookie.Secure);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
    }
}
