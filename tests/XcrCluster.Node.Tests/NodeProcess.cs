using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace XcrCluster.Node.Tests;

/// <summary>An `xcr-node` child process on a data directory, with an HTTP client holding its bearer token.</summary>
public sealed class NodeProcess : IDisposable
{
    private NodeProcess(ProgramProcess process, Uri url, string dataDir)
    {
        Process = process;
        Url = url;
        Http = NodeHttp.Create(url, dataDir, TimeSpan.FromSeconds(60));
    }

    public ProgramProcess Process { get; }

    public Uri Url { get; }

    public HttpClient Http { get; }

    public static Task<NodeProcess> StartAsync(string dataDir, params string[] options) => StartAsync(dataDir, null, options);

    /// <summary>A node with more environment variables (XCR_NODE_* settings, secrets).</summary>
    public static async Task<NodeProcess> StartAsync(string dataDir, IReadOnlyDictionary<string, string>? environment,
        params string[] options)
    {
        var (process, url) = await ProgramProcess.StartAsync(ProgramProcess.Node, environment, ["--data", dataDir, .. options]);
        return new NodeProcess(process, url, dataDir);
    }

    /// <summary>A node joining the cluster of the node on <paramref name="seedDir"/> with the given roles. Every node of a
    /// cluster shares the cluster key (it unseals the pools' credentials itself): copied unless the directory has one.</summary>
    public static Task<NodeProcess> JoinAsync(string dataDir, string seedDir, string roles, params string[] extra)
        => JoinAsync(dataDir, [seedDir], roles, extra);

    /// <summary>A node joining through several seed nodes (the first one's cluster key is copied if needed).</summary>
    public static async Task<NodeProcess> JoinAsync(string dataDir, IReadOnlyList<string> seedDirs, string roles, params string[] extra)
    {
        Directory.CreateDirectory(dataDir);
        if (!File.Exists(Path.Combine(dataDir, "cluster.key")))
        {
            File.Copy(Path.Combine(seedDirs[0], "cluster.key"), Path.Combine(dataDir, "cluster.key"));
        }

        var seeds = string.Join(',', seedDirs.Select(d => Endpoint(d)["akka"]));
        return await StartAsync(dataDir, ["--roles", roles, "--seed-nodes", seeds, .. extra]);
    }

    public async Task<JsonNode> PostAsync(string path, object body, int expected = 200)
    {
        using var response = await Http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expected, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    public async Task<JsonNode> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>What a started node wrote to DIR/endpoint: http, akka and data addresses by name.</summary>
    public static Dictionary<string, string> Endpoint(string dataDir)
        => File.ReadAllLines(Path.Combine(dataDir, "endpoint")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    /// <summary>Registers a simulated pool under a name with its credentials.</summary>
    public Task<JsonNode> AddPoolAsync(string name, SimHost pool)
        => PostAsync("/api/pools",
            new { name, url = pool.Url.ToString(), username = pool.Pool.Options.User, password = pool.Pool.Options.Password });

    /// <summary>Starts a run of the job and returns its id.</summary>
    public async Task<string> RunAsync(string jobId)
    {
        var accepted = await PostAsync($"/api/jobs/{jobId}/run", new { }, 202);
        Assert.True(accepted["vms"]!.AsArray().All(v => v!["accepted"]!.GetValue<bool>()), accepted.ToJsonString());
        return accepted["runId"]!.GetValue<string>();
    }

    /// <summary>Polls a run until its single VM is no longer queued or running.</summary>
    public async Task<JsonNode> AwaitRunAsync(string jobId, string runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var run = await GetAsync($"/api/jobs/{jobId}/runs/{runId}");
            var vm = run["vms"]!.AsArray().Single()!;
            if (vm["status"]!.GetValue<string>() is not ("running" or "queued"))
            {
                return vm;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runId} still {vm["status"]} after 120 s");
            await Task.Delay(200);
        }
    }

    /// <summary>A server-sent event stream's events (name, JSON data) up to and including the first named
    /// <paramref name="last"/>.</summary>
    public async Task<List<(string Name, JsonNode Data)>> EventsUntilAsync(string path, string last, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        using var response = await Http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var events = new List<(string, JsonNode)>();
        string? name = null;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((name!, JsonNode.Parse(line["data: ".Length..])!));
                if (name == last)
                {
                    return events;
                }
            }
        }

        throw new InvalidOperationException($"GET {path} ended before an event {last}");
    }

    /// <summary>The node's resident memory now (VmRSS of /proc/PID/status), in bytes.</summary>
    public long ResidentBytes()
        => long.Parse(File.ReadAllLines($"/proc/{Process.ProgramPid}/status")
            .First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;

    public static string Describe(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    public void Dispose()
    {
        Http.Dispose();
        Process.Dispose();
    }
}
