using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>`xcr pool add` logs in before anything is stored and replaces a pool only when told to; `xcr job set` refuses a
/// timeout beyond 7 days or one that overflows, naming the setting, and the job keeps its value.</summary>
public sealed class PoolAndDurationCommandTests : NodeAndPools
{
    [Fact]
    public async Task A_pool_is_stored_only_after_a_login_with_its_credentials_and_tls_and_a_taken_name_needs_replace()
    {
        var wrong = await XcrAsync("not-the-password\n", "pool", "add", "alpha", Alpha.Url.ToString(), "--password-stdin");
        Assert.Equal(1, wrong.Code);
        Assert.Contains("SESSION_AUTHENTICATION_FAILED", Assert.Single(Lines(wrong.Stderr)));
        Assert.Empty(await PoolsAsync());

        var down = await XcrAsync(Password + "\n", "pool", "add", "alpha", "http://127.0.0.1:1", "--password-stdin");
        Assert.Equal(1, down.Code);
        Assert.StartsWith("xcr: login to http://127.0.0.1:1: ", Assert.Single(Lines(down.Stderr)));
        Assert.Empty(await PoolsAsync());

        await AddPoolsAsync();
        var taken = await XcrAsync(Password + "\n", "pool", "add", "alpha", Beta.Url.ToString(), "--password-stdin");
        Assert.Equal(1, taken.Code);
        Assert.Contains("--replace", taken.Stderr);
        Assert.Equal(Alpha.Url.GetLeftPart(UriPartial.Authority), (await PoolsAsync())["alpha"]);
        Assert.Equal(0,
            (await XcrAsync(Password + "\n", "pool", "add", "alpha", Beta.Url.ToString(), "--password-stdin", "--replace")).Code);
        Assert.Equal(Beta.Url.GetLeftPart(UriPartial.Authority), (await PoolsAsync())["alpha"]);

        // TLS: the certificate is checked as it will be at every connection (a pinned fingerprint, or the system's roots).
        await using var tls = await SimHost.StartAsync(o => o with { PoolName = "gamma", Password = Password, Tls = true });
        var fingerprint = tls.Server.CertificateFingerprint!;
        var other = new string(fingerprint.Select(c => c == '0' ? '1' : '0').ToArray());
        foreach (var choice in new string[][] { ["--fingerprint", other], [] })
        {
            var refused = await XcrAsync(Password + "\n", ["pool", "add", "gamma", tls.Url.ToString(), "--password-stdin", .. choice]);
            Assert.Equal(1, refused.Code);
            Assert.Contains("certificate", Assert.Single(Lines(refused.Stderr)));
        }

        Assert.DoesNotContain("gamma", (await PoolsAsync()).Keys);
        Assert.Equal(0,
            (await XcrAsync(Password + "\n", "pool", "add", "gamma", tls.Url.ToString(), "--password-stdin", "--fingerprint",
            fingerprint)).Code);
        Assert.Contains("gamma", (await PoolsAsync()).Keys);
    }

    [Fact]
    public async Task A_timeout_beyond_7_days_or_overflowing_is_refused_naming_the_setting()
    {
        await AddPoolsAsync();
        var created = await XcrAsync("", "job", "create", "bounded", "--pool", "alpha", "--vm", Guid.NewGuid().ToString(), "--sr",
            $"beta:{Guid.NewGuid()}", "--timeout", "7d");
        Assert.True(created.Code == 0, created.Stderr);
        var jobId = Lines(created.Stdout)[0]["job ".Length..];
        foreach (var bad in new[] { "8d", "169h", "99999999999h", "1e30s" })
        {
            var set = await XcrAsync("", "job", "set", jobId, $"timeout={bad}");
            Assert.Equal(1, set.Code);
            Assert.StartsWith($"xcr: timeout: \"{bad}\" is not valid: a duration such as 2h or 30m, at most 7d",
                Assert.Single(Lines(set.Stderr)));
        }

        Assert.Equal("7.00:00:00", JsonNode.Parse(await OkAsync("job", "show", jobId))!["settings"]!["timeout"]!.GetValue<string>());
        Assert.Equal(0, (await XcrAsync("", "job", "set", jobId, "timeout=2h")).Code);
        Assert.Equal("02:00:00", JsonNode.Parse(await OkAsync("job", "show", jobId))!["settings"]!["timeout"]!.GetValue<string>());
    }

    private async Task<Dictionary<string, string>> PoolsAsync()
        => JsonNode.Parse(await OkAsync("pool", "list", "--json"))!.AsArray()
            .ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!["url"]!.GetValue<string>());

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
