using System.Net.Http.Json;
using System.Text.Json;
using XcrCluster.Testing;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Bench;

/// <summary>The two simulated pools of `control` as processes: alpha holding the job's VMs (one tiny empty disk each),
/// beta an empty target; their wire statistics (calls and serving time per method) read over /sim/stats.</summary>
internal sealed class ControlPools : IAsyncDisposable
{
    /// <summary>Tiny and empty: the bench measures the control plane, not the bytes.</summary>
    public const long DiskSize = 8L << 20;

    /// <summary>Generous, only a safety net: the bench kills every process it started on every path.</summary>
    public static readonly ProgramProcess.Program Sim = ProgramProcess.Sim with { TimeLimitSeconds = 4 * 3600 };

    private readonly List<ProgramProcess> processes = [];
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromMinutes(2) };

    public required Uri Alpha { get; init; }

    public required Uri Beta { get; init; }

    public required IReadOnlyList<string> VmUuids { get; init; }

    public required string TargetSr { get; init; }

    /// <summary>The source pool's fixture: generated, not listed (gen-00001...); zero fill, so the full run moves no data.</summary>
    public static Fixture SourceFixture(int vms) => new() { Generate = new FixtureGenerate(vms, 1, DiskSize, Fill: new DiskFill()) };

    public static async Task<ControlPools> StartAsync(string dir, int vms)
    {
        var started = new List<ProgramProcess>();
        try
        {
            var alpha = await StartSimAsync(started, dir, "alpha", SourceFixture(vms));
            var beta = await StartSimAsync(started, dir, "beta", new Fixture());
            await using var source = await ConnectAsync(alpha);
            var uuids = (await source.GetAllRecordsAsync<VmRecord>())
                .Where(v => !v.IsControlDomain && !v.IsASnapshot && !v.IsATemplate).Select(v => v.Uuid).ToList();
            await using var target = await ConnectAsync(beta);
            var sr = (await target.GetAllRecordsAsync<SrRecord>()).First(s => s.NameLabel == "Local storage").Uuid;
            var pools = new ControlPools { Alpha = alpha, Beta = beta, VmUuids = uuids, TargetSr = sr };
            pools.processes.AddRange(started);
            return pools;
        }
        catch
        {
            started.ForEach(p => p.Dispose());
            throw;
        }
    }

    /// <summary>What `POST /api/pools` takes for a pool.</summary>
    public static object Registration(string name, Uri url) => new { name, url = url.ToString(), username = "root", password = "password" };

    /// <summary>CPU time both simulators have used so far.</summary>
    public TimeSpan Cpu => processes.Aggregate(TimeSpan.Zero, (sum, p) => sum + ProcessCpu.Of(p));

    public async Task ClearStatsAsync()
    {
        foreach (var url in new[] { Alpha, Beta })
        {
            (await http.DeleteAsync(new Uri(url, "/sim/stats"))).EnsureSuccessStatusCode();
        }
    }

    /// <summary>Both pools' calls, serving and waiting seconds per method since the last clear, added up, and their busy
    /// seconds (each pool's wall time with a call being served, long polls' waits left out), added up.</summary>
    public async Task<SimCalls> CallsAsync()
    {
        var sum = new Dictionary<string, MethodCalls>(StringComparer.Ordinal);
        var busy = 0.0;
        foreach (var url in new[] { Alpha, Beta })
        {
            var stats = await http.GetFromJsonAsync<JsonElement>(new Uri(url, "/sim/stats"));
            var (serving, waiting) = (stats.GetProperty("servingSeconds"), stats.GetProperty("waitingSeconds"));
            foreach (var call in stats.GetProperty("calls").EnumerateObject())
            {
                var known = sum.GetValueOrDefault(call.Name);
                sum[call.Name] = new(known.Calls + call.Value.GetInt64(), known.Seconds + Seconds(serving, call.Name),
                    known.Waiting + Seconds(waiting, call.Name));
            }

            busy += stats.GetProperty("busySeconds").GetDouble();
        }

        return new(sum, busy);
    }

    private static double Seconds(JsonElement times, string method) => times.TryGetProperty(method, out var s) ? s.GetDouble() : 0;

    public ValueTask DisposeAsync()
    {
        http.Dispose();
        processes.ForEach(p => p.Dispose());
        return ValueTask.CompletedTask;
    }

    private static async Task<Uri> StartSimAsync(List<ProgramProcess> started, string dir, string name, Fixture fixture)
    {
        var fixturePath = Path.Combine(dir, name + ".fixture.json");
        await File.WriteAllTextAsync(fixturePath, JsonSerializer.Serialize(fixture, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        var (process, url) = await ProgramProcess.StartAsync(Sim, "--listen", "127.0.0.1:0", "--data", Path.Combine(dir, name),
            "--pool-name", name, "--fixture", fixturePath);
        started.Add(process);
        return url;
    }

    private static Task<XapiClient> ConnectAsync(Uri url)
        => XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:password@{url.Authority}"));
}

/// <summary>One XAPI method's calls over both pools: how many, the seconds the simulators worked on them and the seconds
/// they only waited (a long poll for a change, a lock another call held).</summary>
internal readonly record struct MethodCalls(long Calls, double Seconds, double Waiting);

/// <summary>Both pools' calls per method and their busy seconds (wall time with a call being served, per pool, added up).</summary>
internal sealed record SimCalls(IReadOnlyDictionary<string, MethodCalls> Methods, double BusySeconds)
{
    public static readonly SimCalls None = new(new Dictionary<string, MethodCalls>(), 0);
}
