using System.Net.Http.Json;
using System.Text.Json;
using XcrCluster.Testing;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Bench;

/// <summary>A simulated pool as its own process (`xcr-xapi-sim` on a fresh data directory), as a real pool would be to a
/// node: the source holds VM "bench" with one synthetic disk (generated on read: every block allocated, random bytes, no
/// file content); a target holds one SR of the given type ("ext" = a file SR, "null" = the null SR that only counts and
/// hashes what it receives) and VM "sink" with an empty disk there for the plain pipe. Killed by PID on dispose.</summary>
public sealed class BenchPool : IAsyncDisposable
{
    public const string User = "root";
    public const string Password = "bench";

    private BenchPool(string name, string dir, ProgramProcess process, Uri url, XapiClient client)
    {
        (Name, Dir, Process, Url, Client) = (name, dir, process, url, client);
    }

    public string Name { get; }

    public string Dir { get; }

    public ProgramProcess Process { get; }

    public Uri Url { get; }

    public XapiClient Client { get; }

    /// <summary>The source pool: VM "bench" with a synthetic disk of <paramref name="size"/> bytes, and VM "warmup"
    /// (256 MiB: 128 blocks, enough calls of every per-block method for the runtime to compile it optimised) that a
    /// cluster replicates once before it is measured.</summary>
    public static Task<BenchPool> SourceAsync(string name, long size) => StartAsync(name, Fixture.Default with
    {
        Pool = name,
        Vms =
        [
            new FixtureVm("bench", "Running", Disks: [new FixtureDisk(size, Fill: new DiskFill("synthetic", 7))]),
            new FixtureVm("warmup", "Running", Disks: [new FixtureDisk(256 << 20, Fill: new DiskFill("synthetic", 8))]),
        ],
    });

    /// <summary>The RPO proof's source: VM "rpo" with one disk of <paramref name="size"/> bytes a guest can write into (random
    /// content in 5 % of its blocks at first, in a VHD file).</summary>
    public static Task<BenchPool> WritableSourceAsync(string name, long size) => StartAsync(name, Fixture.Default with
    {
        Pool = name,
        Vms = [new FixtureVm("rpo", "Running", Disks: [new FixtureDisk(size, Fill: new DiskFill("random", 7, 0.05))])],
    });

    /// <summary>A target pool whose only SR, "Bench storage", has type <paramref name="srType"/>.</summary>
    public static Task<BenchPool> TargetAsync(string name, long size, string srType) => StartAsync(name, Fixture.Default with
    {
        Pool = name,
        Srs = [new FixtureSr("Bench storage", 1L << 40, srType)],
        Vms = [new FixtureVm("sink", Disks: [new FixtureDisk(size)])],
    });

    private static async Task<BenchPool> StartAsync(string name, Fixture fixture)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"xcr-bench-{name}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "fixture.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(fixture, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        ProgramProcess? process = null;
        try
        {
            (process, var url) = await ProgramProcess.StartAsync(ControlPools.Sim, "--listen", "127.0.0.1:0",
                "--data", Path.Combine(dir, "data"), "--pool-name", name, "--user", User, "--password", Password, "--fixture", file);
            var client = await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://{User}:{Password}@{url.Authority}"));
            return new BenchPool(name, dir, process, url, client);
        }
        catch
        {
            process?.Dispose();
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    public async Task<VmRecord> VmAsync(string name) => (await Client.GetAllRecordsAsync<VmRecord>()).Single(v => v.NameLabel == name);

    /// <summary>The VM's first disk.</summary>
    public async Task<VdiRecord> DiskAsync(string vmName)
        => (await Client.GetAllRecordsAsync<VdiRecord>()).Single(v => v.NameLabel == $"{vmName} disk 0");

    public async Task<SrRecord> BenchSrAsync() => (await Client.GetAllRecordsAsync<SrRecord>()).Single(s => s.NameLabel == "Bench storage");

    /// <summary>Bytes the pool's SR directories hold on disk (a null SR keeps none of what it imports).</summary>
    public long StoredBytes()
    {
        var srs = Path.Combine(Dir, "data", "sr");
        return Directory.Exists(srs) ? Directory.EnumerateFiles(srs, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
    }

    /// <summary>The guest of VM "bench" writes <paramref name="blocks"/> random 2 MiB blocks of its disk (the simulator's
    /// /sim/guest-write, as `xcr-xapi-sim guest-write` sends it).</summary>
    public async Task GuestWriteAsync(string vmUuid, int blocks, int seed)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromMinutes(5) };
        using var response = await http.PostAsJsonAsync("/sim/guest-write", new { vm = vmUuid, disk = 0, blocks, seed });
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"guest-write: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>XAPI calls per method since the simulator's counters were last cleared, and clears them (/sim/stats).</summary>
    public async Task<IReadOnlyDictionary<string, long>> TakeCallCountsAsync()
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
        var stats = await http.GetFromJsonAsync<JsonElement>("/sim/stats");
        (await http.DeleteAsync("/sim/stats")).EnsureSuccessStatusCode();
        return stats.GetProperty("calls").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Client.DisposeAsync();
        }
        finally
        {
            Process.Dispose();
            Directory.Delete(Dir, recursive: true);
        }
    }
}
