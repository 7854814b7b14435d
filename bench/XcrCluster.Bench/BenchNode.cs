using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using XcrCluster.Testing;

namespace XcrCluster.Bench;

/// <summary>An `xcr-node` process on a fresh data directory, driven through its HTTP API with the bearer token it wrote
/// there; killed by PID on dispose (the directory is deleted).</summary>
public sealed class BenchNode : IDisposable
{
    private readonly HttpClient http;

    private BenchNode(ProgramProcess process, Uri url, string dir)
    {
        (Process, Dir) = (process, dir);
        http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        var token = File.ReadAllText(Path.Combine(dir, "token")).Trim();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public ProgramProcess Process { get; }

    public string Dir { get; }

    /// <summary>A node with all roles (one node serving both pools), or with the given roles.</summary>
    public static Task<BenchNode> StartAsync(string? roles = null) => StartAsync(NewDir(), roles is null ? [] : ["--roles", roles]);

    /// <summary>A second node joining <paramref name="seed"/>'s cluster with the given roles (sharing its cluster key).</summary>
    public static Task<BenchNode> JoinAsync(BenchNode seed, string roles)
    {
        var dir = NewDir();
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(seed.Dir, "cluster.key"), Path.Combine(dir, "cluster.key"));
        var akka = File.ReadAllLines(Path.Combine(seed.Dir, "endpoint")).Single(l => l.StartsWith("akka=", StringComparison.Ordinal))[5..];
        return StartAsync(dir, ["--roles", roles, "--seed-nodes", akka]);
    }

    private static string NewDir() => Path.Combine(Path.GetTempPath(), "xcr-bench-node-" + Guid.NewGuid().ToString("N")[..8]);

    private static async Task<BenchNode> StartAsync(string dir, string[] options)
    {
        try
        {
            var (process, url) = await ProgramProcess.StartAsync(ControlNode.Node, ["--data", dir, .. options]);
            return new BenchNode(process, url, dir);
        }
        catch
        {
            DeleteDir(dir);
            throw;
        }
    }

    /// <summary>Peak resident memory of the node process so far (VmHWM), in bytes.</summary>
    public long PeakResidentBytes => Process.PeakResidentBytes;

    public async Task AddPoolAsync(BenchPool pool)
        => await PostAsync("/api/pools",
            new { name = pool.Name, url = pool.Url.ToString(), username = BenchPool.User, password = BenchPool.Password });

    /// <summary>A job replicating VM <paramref name="vmName"/> of <paramref name="source"/> to the bench SR of
    /// <paramref name="target"/>; its id.</summary>
    public async Task<string> JobAsync(BenchPool source, BenchPool target, string vmName)
    {
        var vm = (await source.VmAsync(vmName)).Uuid;
        var sr = (await target.BenchSrAsync()).Uuid;
        var job = await PostAsync("/api/jobs", new
        {
            name = vmName, sourcePool = source.Name, vms = new[] { vm }, targets = new[] { new { pool = target.Name, sr } },
        });
        return job["id"]!.GetValue<string>();
    }

    /// <summary>Runs the job and waits for its one VM's end (bounded): the run's record (started, the VM's log, targets).</summary>
    public async Task<RunReport> RunAsync(string jobId, TimeSpan limit)
    {
        var accepted = await PostAsync($"/api/jobs/{jobId}/run", new { });
        var runId = accepted["runId"]!.GetValue<string>();
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var run = await GetAsync($"/api/jobs/{jobId}/runs/{runId}");
            var vm = run["vms"]?.AsArray().SingleOrDefault();
            if (vm?["status"]?.GetValue<string>() is { } status && status is not ("running" or "queued"))
            {
                return new RunReport(run, vm);
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"run {runId} not finished after {limit.TotalSeconds} s");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the cluster, as this node sees it, has <paramref name="count"/> members Up (bounded).</summary>
    public async Task AwaitMembersAsync(int count, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var cluster = await GetAsync("/api/cluster");
            if (cluster["members"]!.AsArray().Count(m => m!["status"]!.GetValue<string>() == "Up") >= count)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{count} members not up after {limit.TotalSeconds} s: {cluster.ToJsonString()}");
            }

            await Task.Delay(200);
        }
    }

    public async Task<JsonNode> GetAsync(string path)
    {
        using var response = await http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? JsonNode.Parse(text)!
            : throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {text}");
    }

    public async Task<JsonNode> PostAsync(string path, object body)
    {
        using var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
        }

        return JsonNode.Parse(text)!;
    }

    public void Dispose()
    {
        http.Dispose();
        Process.Dispose();
        DeleteDir(Dir);
    }

    private static void DeleteDir(string dir)
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
