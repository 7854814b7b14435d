using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>The node's HTTP API refuses what it must: bad input with 400 and a message naming the field, unknown ids with
/// 404, requests without the token with 401 — and a refused request writes nothing.</summary>
public sealed class ApiTests(ApiTests.Node node) : IClassFixture<ApiTests.Node>
{
    /// <summary>One node and its two pools (registered) for every case: the cases only read or are refused.</summary>
    public sealed class Node : NodeAndPools, IAsyncLifetime
    {
        async Task IAsyncLifetime.InitializeAsync()
        {
            await InitializeAsync();
            await AddPoolsAsync();
        }

        public HttpClient Client(string? token = "") => Http(token);
    }

    private const string Uuid = "00000000-0000-4000-8000-000000000001";

    public static TheoryData<string, string, string?, int, string> BadRequests() => new()
    {
        { "POST", "/api/pools", """{"name":"bad name","url":"https://192.0.2.1","username":"root","password":"p"}""", 400, "name:" },
        { "POST", "/api/pools", """{"name":"gamma","url":"ftp://192.0.2.1","username":"root","password":"p"}""", 400, "url:" },
        { "POST", "/api/pools", """{"name":"gamma","username":"root"}""", 400, "url: required" },
        { "POST", "/api/pools", "this is not json", 400, "body:" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"nosuch","vms":["{{{Uuid}}}"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}]}""", 400, "sourcePool: unknown pool \"nosuch\"" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["web01"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}]}""", 400, "vms:" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":[]}""", 400, "targets:" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}],"settings":{"copyRetention":0}}""", 400, "settings: copyRetention" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}],"settings":{"copyRetention":"many"}}""", 400, "$.settings.copyRetention" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}],"schedule":{"cron":"61 * * * *"}}""", 400, "schedule: cron" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}],"schedule":{"cron":"* * * * *","timeZone":"Mars/Olympus"}}""", 400, "schedule: timezone" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","smart":"pool=alpha,colour=red","targets":[{"pool":"beta","sr":"{{{Uuid}}}"}]}""", 400, "smart:" },
        { "PATCH", $"/api/jobs/{Uuid}", """{"retries":"1"}""", 404, "no job" },
        { "DELETE", $"/api/jobs/{Uuid}", null, 404, "no job" },
        { "POST", $"/api/jobs/{Uuid}/run", "{}", 404, "no job" },
        { "POST", $"/api/jobs/{Uuid}/schedules", """{"cron":"* * * * *"}""", 404, "no job" },
        { "GET", $"/api/runs/{Uuid}", null, 404, "no run" },
        { "GET", "/api/pools/nosuch/srs", null, 404, "no pool" },
        { "GET", "/api/pools/nosuch/load", null, 404, "no pool" },
        { "DELETE", $"/api/replicas/{Uuid}", null, 404, "no restore point" },
        { "POST", "/api/cluster/down", "{}", 400, "address: required" },
        { "POST", "/api/cluster/reboot", "{}", 404, "no cluster action" },
        { "GET", "/api/sharding/regions/nosuch", null, 404, "no region" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_and_unknown_ids_are_refused_and_nothing_is_written(string method, string path, string? body, int status, string message)
    {
        using var http = node.Client();
        var before = (await http.GetStringAsync("/api/pools"), await http.GetStringAsync("/api/jobs"));
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        Assert.Contains(message, JsonNode.Parse(text)!["error"]!.GetValue<string>());
        Assert.Equal(before, (await http.GetStringAsync("/api/pools"), await http.GetStringAsync("/api/jobs")));
    }

    [Theory]
    [InlineData("GET", "/api/pools")]
    [InlineData("POST", "/api/jobs")]
    [InlineData("GET", "/api/runs")]
    [InlineData("GET", "/api/cluster")]
    [InlineData("GET", "/openapi/v1.json")]
    public async Task Requests_without_the_token_or_with_a_wrong_one_are_refused(string method, string path)
    {
        foreach (var token in new[] { null, "wrong" })
        {
            using var http = node.Client(token);
            using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") });
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
    }
}
