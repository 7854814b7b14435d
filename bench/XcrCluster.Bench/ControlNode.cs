using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using XcrCluster.Testing;

namespace XcrCluster.Bench;

/// <summary>An `xcr-node` process the bench started (killed by PID on dispose) and an HTTP client holding its token.</summary>
internal sealed class ControlNode : IDisposable
{
    /// <summary>Generous, only a safety net: the bench kills every process it started on every path.</summary>
    public static readonly ProgramProcess.Program Node = ProgramProcess.Node with { TimeLimitSeconds = 4 * 3600 };

    private ControlNode(string name, ProgramProcess process, Uri url, string dataDir)
    {
        Name = name;
        Process = process;
        DataDir = dataDir;
        Http = NodeHttp.Create(url, dataDir, TimeSpan.FromMinutes(10));
    }

    public string Name { get; }

    public ProgramProcess Process { get; }

    public string DataDir { get; }

    public HttpClient Http { get; }

    /// <summary>This node's Akka address (DIR/endpoint), for nodes joining it.</summary>
    public string Akka => File.ReadAllLines(Path.Combine(DataDir, "endpoint")).Select(l => l.Split('=', 2)).First(p => p[0] == "akka")[1];

    public static async Task<ControlNode> StartAsync(string name, string dataDir, params string[] options)
    {
        var (process, url) = await ProgramProcess.StartAsync(Node, ["--data", dataDir, .. options]);
        try
        {
            return new ControlNode(name, process, url, dataDir);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>A node joining <paramref name="seed"/>'s cluster: every node shares the cluster key (it unseals pool
    /// credentials).</summary>
    public static Task<ControlNode> JoinAsync(string name, string dataDir, ControlNode seed, params string[] options)
    {
        Directory.CreateDirectory(dataDir);
        File.Copy(Path.Combine(seed.DataDir, "cluster.key"), Path.Combine(dataDir, "cluster.key"), overwrite: true);
        return StartAsync(name, dataDir, ["--seed-nodes", seed.Akka, .. options]);
    }

    public async Task<JsonNode> PostAsync(string path, object body, int expected = 200)
    {
        using var response = await Http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (int)response.StatusCode == expected ? JsonNode.Parse(text)!
            : throw new InvalidOperationException($"{Name}: POST {path}: {(int)response.StatusCode} {text}");
    }

    public async Task<JsonNode> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? JsonNode.Parse(text)!
            : throw new InvalidOperationException($"{Name}: GET {path}: {(int)response.StatusCode} {text}");
    }

    /// <summary>Polls until the cluster shows <paramref name="members"/> members Up.</summary>
    public async Task AwaitMembersAsync(int members, TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while ((await GetAsync("/api/cluster"))["members"]!.AsArray().Count(m => m!["status"]!.GetValue<string>() == "Up") < members)
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"{Name}: fewer than {members} members up after {limit}");
            }

            await Task.Delay(500);
        }
    }

    /// <summary>Starts a run of the job and follows its event stream to its end; the run's id, the wall time from the
    /// request to the end event, and the VMs not accepted (with the first reason), which the end does not wait for.</summary>
    public async Task<(string RunId, TimeSpan Wall, int Refused, string? Reason)> RunAsync(string jobId, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var accepted = await PostAsync($"/api/jobs/{jobId}/run", new { }, 202);
        var refused = accepted["vms"]!.AsArray().Where(v => !v!["accepted"]!.GetValue<bool>()).ToList();
        var reason = refused.Select(v => v!["reason"]?.GetValue<string>()).FirstOrDefault();
        if (refused.Count > 0)
        {
            Console.Error.WriteLine($"  {Name}: {refused.Count} VMs refused the run: {reason}");
        }

        var runId = accepted["runId"]!.GetValue<string>();
        using var timeout = new CancellationTokenSource(limit);
        using var response = await Http.GetAsync($"/api/runs/{runId}/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var ended = 0;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == "event: vm-end" && ++ended % 100 == 0)
            {
                Console.Error.WriteLine($"  {Name}: {ended} VMs done after {clock.Elapsed.TotalSeconds:F0} s");
            }
            else if (line == "event: end")
            {
                return (runId, clock.Elapsed, refused.Count, reason);
            }
        }

        throw new InvalidOperationException($"{Name}: the events of run {runId} ended before the run did");
    }

    /// <summary>Peak resident memory so far (VmHWM), in bytes.</summary>
    public long PeakResidentBytes => Process.PeakResidentBytes;

    /// <summary>CPU time the node has used so far.</summary>
    public TimeSpan Cpu => ProcessCpu.Of(Process);

    public void Dispose()
    {
        Http.Dispose();
        Process.Dispose();
    }
}
