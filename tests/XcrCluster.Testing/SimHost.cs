using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Http;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Testing;

/// <summary>A simulated pool hosted in-process on loopback with its own temporary data directory.</summary>
public sealed class SimHost : IAsyncDisposable
{
    private SimHost(SimServer server, string dataDir)
    {
        Server = server;
        DataDir = dataDir;
    }

    public SimServer Server { get; }

    public string DataDir { get; }

    public SimPool Pool => Server.Pool;

    public Uri Url => Server.Url;

    /// <summary>XCR_SIM_XAPI_VERSION, when set: the xapi release every pool a test starts runs (e.g. "1.20" for an
    /// XCP-ng 8.2 pool), so a whole test project can be run against it; a test's own setting still wins.</summary>
    public static string? XapiVersionFromEnvironment
        => Environment.GetEnvironmentVariable("XCR_SIM_XAPI_VERSION") is { Length: > 0 } v ? v : null;

    public static string NewDataDir() => Path.Combine(Path.GetTempPath(), "xcr-sim-" + Guid.NewGuid().ToString("N")[..12]);

    public static async Task<SimHost> StartAsync(Func<SimOptions, SimOptions>? configure = null, string? dataDir = null)
    {
        dataDir ??= NewDataDir();
        var options = new SimOptions { DataDir = dataDir, CollectorInterval = TimeSpan.Zero, Fixture = SmallFixture };
        options = options with { XapiVersion = XapiVersionFromEnvironment ?? options.XapiVersion };
        options = configure?.Invoke(options) ?? options;
        return new SimHost(await SimServer.StartAsync(options), dataDir);
    }

    /// <summary>The default pool's shape (three VMs, one with two disks, a CD drive, two SRs) with disks of
    /// 16 to 64 MiB, so each test's pool is written in milliseconds; tests of the default itself pass null.</summary>
    public static Fixture SmallFixture { get; } = Fixture.Default with
    {
        Vms =
        [
            new FixtureVm("web01", "Running",
                Disks: [new FixtureDisk(32 * MiB, Fill: new DiskFill("random", 1, 0.3)),
                new FixtureDisk(16 * MiB, Fill: new DiskFill("random", 2, 0.5))], Cdrom: true),
            new FixtureVm("db01", "Halted", Disks: [new FixtureDisk(64 * MiB, Fill: new DiskFill("random", 3, 0.2))]),
            new FixtureVm("tiny01", "Running", Disks: [new FixtureDisk(17 * MiB + 512, Fill: new DiskFill("random", 4, 0.5))]),
        ],
    };

    private const long MiB = 1024 * 1024;

    public RpcClient Json() => new(Url, RpcClient.Transport.Json);

    public RpcClient Xml() => new(Url, RpcClient.Transport.Xml);

    /// <summary>The content hash (ContentHasher) of each disk of a VM or snapshot (userdevice order), read from the
    /// pool's storage.</summary>
    public async Task<List<string>> DiskChecksumsAsync(string vmUuid)
    {
        using var rpc = Json();
        await rpc.LoginAsync(Pool.Options.User, Pool.Options.Password);
        var vm = await rpc.RecordAsync("VM", (string)(await rpc.CallAsync("VM.get_by_uuid", vmUuid))!);
        var disks = new List<(int Device, string Vdi)>();
        foreach (var vbdRef in (List<object?>)vm["VBDs"]!)
        {
            var vbd = await rpc.RecordAsync("VBD", (string)vbdRef!);
            if ((string)vbd["type"]! == "Disk")
            {
                disks.Add((int.Parse((string)vbd["userdevice"]!), (string)(await rpc.RecordAsync("VDI", (string)vbd["VDI"]!))["uuid"]!));
            }
        }

        return [.. disks.OrderBy(d => d.Device).Select(d => GuestWorkload.Checksum(Pool, d.Vdi))];
    }

    /// <summary>The uuid of the (non-snapshot) object of class VM, SR, ... with this name.</summary>
    public async Task<string> UuidAsync(string cls, string name)
    {
        using var rpc = Json();
        await rpc.LoginAsync(Pool.Options.User, Pool.Options.Password);
        return await rpc.UuidAsync(cls, name);
    }

    /// <summary>Every record of a class, as XAPI returns them.</summary>
    public async Task<List<Dictionary<string, object?>>> AllRecordsAsync(string cls)
    {
        using var rpc = Json();
        await rpc.LoginAsync(Pool.Options.User, Pool.Options.Password);
        return [.. (await rpc.AllRecordsAsync(cls)).Values];
    }

    /// <summary>The VMs (snapshots included) whose other_config has this key with this value.</summary>
    public async Task<List<Dictionary<string, object?>>> VmsWithAsync(string key, string value)
        => [.. (await AllRecordsAsync("VM")).Where(r => r["other_config"] is Dictionary<string, object?> oc
            && oc.GetValueOrDefault(key) as string == value)];

    /// <summary>Keep the data directory when disposed, so a restart test can start a new host on it.</summary>
    public bool KeepData { get; set; }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        if (!KeepData)
        {
            DeleteDataDir(DataDir);
        }
    }

    public static void DeleteDataDir(string dataDir)
    {
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
