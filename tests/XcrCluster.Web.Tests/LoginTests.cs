using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace XcrCluster.Web.Tests;

/// <summary>The dashboard's door: the token taken by a login form, an HttpOnly Strict session cookie after, refused without it
/// (pages redirect to the login page, the API keeps its 401), a changing call needing the page's header, and a token
/// rotation ending the session.</summary>
public sealed class LoginTests : WebTest
{
    [Fact]
    public async Task Without_the_token_pages_go_to_the_login_the_api_answers_401_and_a_wrong_token_is_refused()
    {
        var page = Web.Page;
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(WebNode.LoginUrl());
        await Web.ScreenshotAsync("login");

        using (var anonymous = new HttpClient { BaseAddress = Web.Node.Url })
        using (var reply = await anonymous.GetAsync("/api/jobs"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, reply.StatusCode);
            Assert.Contains("bearer token", await reply.Content.ReadAsStringAsync());
        }

        await page.FillAsync("#token", "0123456789abcdef-not-the-token");
        var refused = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#login-submit"), r => r.Url.EndsWith("/login"));
        Assert.Equal(401, refused.Status);
        await Expect(page.Locator("#login-error")).ToContainTextAsync("wrong token");
        Assert.DoesNotContain(await Web.Browser.Context.CookiesAsync(), c => c.Name == "xcr_session");

        // A login form is small: a huge one is refused unread.
        using var huge = new HttpClient { BaseAddress = Web.Node.Url };
        using var big = await huge.PostAsync("/login", new StringContent("token=" + new string('a', 100_000), null,
            "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.DoesNotContain(Web.Browser.Errors, e => !e.Contains("401", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_token_logs_in_with_an_HttpOnly_strict_cookie_changes_need_the_page_header_and_a_rotation_ends_the_session()
    {
        await Web.LogInAsync();
        var cookie = Assert.Single(await Web.Browser.Context.CookiesAsync(), c => c.Name == "xcr_session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.False(cookie.Secure); // plain HTTP here; Secure when the node serves HTTPS
        Assert.Equal(HttpStatusCode.OK, await CallAsync(HttpMethod.Get, "/api/jobs", cookie.Value, header: false));

        // A change with the cookie alone (what a cross-site form could send) is refused; with the page's header it goes through.
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(HttpMethod.Post, "/api/jobs/none/disable", cookie.Value, header: false));
        Assert.Equal(HttpStatusCode.NotFound, await CallAsync(HttpMethod.Post, "/api/jobs/none/disable", cookie.Value, header: true));

        var (code, _, stderr) = await ProgramProcess.RunToEndAsync(ProgramProcess.Node, null, null,
            ["token", "rotate", "--data", Web.DataDir]);
        Assert.True(code == 0, stderr);
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(HttpMethod.Get, "/api/jobs", cookie.Value, header: false));
        await Web.Page.GotoAsync("/#/jobs");
        await Expect(Web.Page).ToHaveURLAsync(WebNode.LoginUrl());

        // Logging in again with the new token, then out: the cookie is gone and the pages with it.
        await Web.LogInAsync();
        await Web.Page.ClickAsync("#logout");
        await Expect(Web.Page).ToHaveURLAsync(WebNode.LoginUrl());
        Assert.DoesNotContain(await Web.Browser.Context.CookiesAsync(), c => c.Name == "xcr_session");
    }

    private async Task<HttpStatusCode> CallAsync(HttpMethod method, string path, string session, bool header)
    {
        using var http = new HttpClient { BaseAddress = Web.Node.Url };
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", $"xcr_session={session}");
        if (header)
        {
            request.Headers.Add("X-Xcr-Web", "1");
        }

        using var reply = await http.SendAsync(request);
        return reply.StatusCode;
    }
}
