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
        /// <summary>A job never run (its VM need not exist): the target of the PATCH cases.</summary>
        public string JobId { get; private set; } = "";

        async Task IAsyncLifetime.InitializeAsync()
        {
            await InitializeAsync();
            await AddPoolsAsync();
            using var http = Http();
            using var job = await http.PostAsync("/api/jobs", new StringContent(
                $$$"""{"name":"fixture","sourcePool":"alpha","vms":["{{{FixtureVm}}}"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}]}""",
                    Encoding.UTF8, "application/json"));
            JobId = JsonNode.Parse(await job.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        }

        public HttpClient Client(string? token = "") => Http(token);

        /// <summary>Placeholders of the cases filled in: {job}, {alpha} (its URL), {password}.</summary>
        public string Fill(string text) => text.Replace("{job}", JobId, StringComparison.Ordinal)
            .Replace("{alpha}", Alpha.Url.ToString(), StringComparison.Ordinal)
            .Replace("{password}", Password, StringComparison.Ordinal);
    }

    private const string Uuid = "00000000-0000-4000-8000-000000000001";

    private const string FixtureVm = "00000000-0000-4000-8000-000000000002";

    private const string Job = $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}]""";

    public static TheoryData<string, string, string?, int, string> BadRequests() => new()
    {
        { "POST", "/api/pools", """{"name":"bad name","url":"https://192.0.2.1","username":"root","password":"p"}""", 400, "name:" },
        { "POST", "/api/pools", """{"name":"gamma","url":"ftp://192.0.2.1","username":"root","password":"p"}""", 400, "url:" },
        { "POST", "/api/pools", """{"name":"gamma","username":"root"}""", 400, "url: required" },
        { "POST", "/api/pools", "this is not json", 400, "body:" },
        { "POST", "/api/jobs",
            $$$"""{"name":"j","sourcePool":"nosuch","vms":["{{{Uuid}}}"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}]}""", 400,
            "sourcePool: unknown pool \"nosuch\"" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["web01"],"targets":[{"pool":"beta","sr":"{{{Uuid}}}"}]}""",
            400, "vms:" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":[]}""", 400, "targets:" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":["""
            + $$$"""{"pool":"beta","sr":"{{{Uuid}}}"}],"settings":{"copyRetention":0}}""", 400, "settings: copyRetention" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":["""
            + $$$"""{"pool":"beta","sr":"{{{Uuid}}}"}],"settings":{"copyRetention":"many"}}""", 400, "$.settings.copyRetention" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":["""
            + $$$"""{"pool":"beta","sr":"{{{Uuid}}}"}],"schedule":{"cron":"61 * * * *"}}""", 400, "schedule: cron" },
        { "POST", "/api/jobs", $$$"""{"name":"j","sourcePool":"alpha","vms":["{{{Uuid}}}"],"targets":["""
            + $$$"""{"pool":"beta","sr":"{{{Uuid}}}"}],"schedule":{"cron":"* * * * *","timeZone":"Mars/Olympus"}}""",
            400, "schedule: timezone" },
        { "POST", "/api/jobs",
            $$$"""{"name":"j","sourcePool":"alpha","smart":"pool=alpha,colour=red","targets":[{"pool":"beta","sr":"{{{Uuid}}}"}]}""", 400,
            "smart:" },
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

        // Durations are bounded (7 days) and never overflow: a 400 naming the field, not a 500 or a crashed control plane.
        { "POST", "/api/jobs", Job + ""","settings":{"timeout":"99999999999h"}}""", 400, "$.settings.timeout" },
        { "POST", "/api/jobs", Job + ""","settings":{"timeout":"7.00:00:01"}}""", 400, "settings: timeout must be at most 7 days" },
        { "POST", "/api/jobs", Job + ""","settings":{"timeout":"10675199.02:48:05"}}""", 400, "settings: timeout must be at most 7 days" },
        { "PATCH", "/api/jobs/{job}", """{"timeout":"99999999999h"}""", 400, "timeout: \"99999999999h\" is not valid" },
        { "PATCH", "/api/jobs/{job}", """{"timeout":"8d"}""", 400, "timeout: \"8d\" is not valid" },
        { "PATCH", "/api/jobs/{job}", """{"timeout":"1e30s"}""", 400, "timeout: \"1e30s\" is not valid" },
        { "PATCH", "/api/jobs/{job}", """{"timeout":1e30}""", 400, "timeout: \"1e30\" is not valid" },

        // A pool is logged in to before it is stored; a taken name needs "replace".
        { "POST", "/api/pools", """{"name":"alpha","url":"{alpha}","username":"root","password":"{password}"}""", 409,
            "replace it explicitly" },
        { "POST", "/api/pools", """{"name":"gamma","url":"{alpha}","username":"root","password":"wrong"}""", 400,
            "SESSION_AUTHENTICATION_FAILED" },
        { "POST", "/api/pools", """{"name":"gamma","url":"http://127.0.0.1:1","username":"root","password":"p"}""", 400,
            "login to http://127.0.0.1:1: " },
        { "POST", "/api/pools", """{"name":"gamma","url":"{alpha}","username":"root","password":"{password}","fingerprint":"abc"}""", 400,
            "fingerprint:" },

        // Unknown VMs are answered without asking the region; every error is JSON.
        { "GET", $"/api/vms/{Uuid}", null, 404, $"VM {Uuid}" },
        { "GET", $"/api/replicas?vm={Uuid}", null, 404, "no job covers or covered" },
        { "GET", "/api/nosuch", null, 404, "404 Not Found" },
        { "PUT", "/api/pools", "{}", 405, "405 Method Not Allowed" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_and_unknown_ids_are_refused_and_nothing_is_written(string method, string path, string? body, int status,
        string message)
    {
        using var http = node.Client();
        var before = (await http.GetStringAsync("/api/pools"), await http.GetStringAsync("/api/jobs"));
        using var request = new HttpRequestMessage(new HttpMethod(method),
            node.Fill(path)) { Content = body is null ? null : new StringContent(node.Fill(body), Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        Assert.Contains(message, JsonNode.Parse(text)!["error"]!.GetValue<string>());
        Assert.Equal(before, (await http.GetStringAsync("/api/pools"), await http.GetStringAsync("/api/jobs")));
    }

    [Fact]
    public async Task Reads_of_unknown_vms_create_no_entity_in_the_region()
    {
        using var http = node.Client();
        async Task<int> EntitiesAsync()
            => JsonNode.Parse(await http.GetStringAsync("/api/sharding/regions/replicated-vm"))!["shards"]!.AsArray()
            .Sum(s => s!["entities"]!.GetValue<int>());

        // The fixture job's VM is known: asking about it may start its entity, once.
        Assert.Equal(FixtureVm, JsonNode.Parse(await http.GetStringAsync("/api/rpo"))!.AsArray().Single()!["vm"]!.GetValue<string>());
        var before = await EntitiesAsync();
        var unknown = Guid.NewGuid().ToString();
        foreach (var (method, path) in new[] { ("GET", $"/api/vms/{unknown}"), ("GET", $"/api/replicas?vm={unknown}"),
            ("DELETE", $"/api/replicas/{unknown}"),
            ("DELETE", $"/api/replicas/{unknown}?sr={Uuid}"), ("GET", "/api/replicas"), ("GET", "/api/runs"),
                ("GET", $"/api/runs/{unknown}") })
        {
            using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.OK,
                $"{method} {path}: {(int)response.StatusCode}");
        }

        Assert.Equal(before, await EntitiesAsync());
    }

    [Theory]
    [InlineData("GET", "/api/pools")]
    [InlineData("POST", "/api/jobs")]
    [InlineData("GET", "/api/runs")]
    [InlineData("GET", "/api/cluster")]
    [InlineData("GET", "/openapi/v1.json")]
    [InlineData("GET", "/metrics")]
    public async Task Requests_without_the_token_or_with_a_wrong_one_are_refused(string method, string path)
    {
        foreach (var token in new[] { null, "wrong" })
        {
            using var http = node.Client(token);
            using var response = await http.SendAsync(
                new HttpRequestMessage(new HttpMethod(method),
                path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") });
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
    }
}
