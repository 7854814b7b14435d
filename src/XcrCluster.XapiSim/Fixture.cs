using System.Text.Json;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Rpc;
using XcrCluster.XapiSim.Storage;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim;

/// <summary>The pool a fresh data directory starts with, from a JSON file (camelCase) or the default.</summary>
public sealed record Fixture
{
    private const long MiB = 1024 * 1024;

    public string? Pool { get; init; }

    public List<FixtureHost> Hosts { get; init; } = [];

    public List<FixtureSr> Srs { get; init; } = [];

    public List<FixtureNetwork> Networks { get; init; } = [];

    public List<FixtureVm> Vms { get; init; } = [];

    /// <summary>VMs made in bulk rather than listed (see FixtureGeneration.cs), after <see cref="Vms"/>.</summary>
    public FixtureGenerate? Generate { get; init; }

    public static Fixture Load(string? path)
    {
        if (path is null)
        {
            return Default;
        }

        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true };
        return JsonSerializer.Deserialize<Fixture>(File.ReadAllText(path), options)
            ?? throw new InvalidDataException($"{path}: empty fixture");
    }

    /// <summary>One host, two SRs, one network, three VMs (one with two disks), 256 MiB to 1 GiB, partly random.</summary>
    public static Fixture Default => new()
    {
        Hosts = [new FixtureHost("sim-host-1")],
        Srs = [new FixtureSr("Local storage", 100L << 30), new FixtureSr("Second storage", 100L << 30)],
        Networks = [new FixtureNetwork("Pool-wide network associated with eth0")],
        Vms =
        [
            new FixtureVm("web01", "Running",
                Disks: [new FixtureDisk(256 * MiB, Fill: new DiskFill("random", 1, 0.3)),
                new FixtureDisk(512 * MiB, Fill: new DiskFill("random", 2, 0.2))], Cdrom: true),
            new FixtureVm("db01", "Halted", Disks: [new FixtureDisk(1024 * MiB, Fill: new DiskFill("random", 3, 0.1))]),
            new FixtureVm("tiny01", "Running", Disks: [new FixtureDisk(256 * MiB, Fill: new DiskFill("random", 4, 0.5))]),
        ],
    };

    public void Build(SimPool pool)
    {
        var db = pool.Db;
        var listen = pool.Options.Listen;
        var hostCount = Math.Max(Math.Max(Hosts.Count, listen.Count), 1);
        var hosts = new List<XapiObject>();
        for (var i = 0; i < hostCount; i++)
        {
            var name = i < Hosts.Count ? Hosts[i].Name : $"sim-host-{i + 1}";
            var address = i < listen.Count ? listen[i][..listen[i].LastIndexOf(':')] : $"127.0.0.{i + 1}";
            hosts.Add(db.Create(Schemas.Host, new Dictionary<string, object?>
            {
                ["name_label"] = name,
                ["hostname"] = name,
                ["address"] = address,
                // product_version, xapi and the API version come from the pool's xapi version (SimPool).
                ["software_version"] = new Dictionary<string, object?> { ["product_brand"] = "XCP-ng", ["platform_name"] = "XCP" },
                ["other_config"] = new Dictionary<string, object?> { ["sim:index"] = i.ToString("D3") },
                ["memory_overhead"] = 0L,
            }));
        }

        var master = hosts[0];
        var srs = Srs.Count > 0 ? Srs : Default.Srs;
        var srRows = srs.Select(s =>
        {
            var sr = db.Create(Schemas.Sr, new Dictionary<string, object?>
            {
                ["name_label"] = s.Name,
                ["type"] = s.Type,
                ["shared"] = s.Shared,
                ["physical_size"] = s.Size,
                ["other_config"] = new Dictionary<string, object?>(),
            });
            foreach (var host in s.Shared ? hosts : [master])
            {
                db.Create(Schemas.Pbd,
                    new Dictionary<string, object?> { ["host"] = host.Ref, ["SR"] = sr.Ref,
                    ["device_config"] = new Dictionary<string, object?> { ["location"] = "/var/run/sr-mount/" + sr.Uuid } });
            }

            return sr;
        }).ToList();

        var networks = (Networks.Count > 0 ? Networks : Default.Networks).Select((n, i) =>
        {
            var network = db.Create(Schemas.Network,
                new Dictionary<string, object?> { ["name_label"] = n.Name, ["bridge"] = n.Bridge ?? $"xenbr{i}" });
            foreach (var host in hosts)
            {
                db.Create(Schemas.Pif, new Dictionary<string, object?>
                {
                    ["device"] = "eth0",
                    ["network"] = network.Ref,
                    ["host"] = host.Ref,
                    ["MAC"] = Vdis.NewMac(),
                    ["VLAN"] = (long)n.Vlan,
                    ["physical"] = n.Vlan < 0,
                    ["management"] = i == 0,
                    ["IP"] = i == 0 ? host.Str("address") : "",
                });
            }

            return network;
        }).ToList();

        db.Create(Schemas.Pool, new Dictionary<string, object?>
        {
            ["name_label"] = Pool ?? pool.Options.PoolName,
            ["master"] = master.Ref,
            ["default_SR"] = srRows[0].Ref,
            ["suspend_image_SR"] = srRows[0].Ref,
            ["crash_dump_SR"] = srRows[0].Ref,
            ["restrictions"] = new Dictionary<string, object?> { ["restrict_vtpm"] = "false" }, // as XCP-ng 8.3
        });

        foreach (var host in hosts)
        {
            var dom0 = db.Create(Schemas.Vm, new Dictionary<string, object?>
            {
                ["name_label"] = $"Control domain on host: {host.Str("name_label")}",
                ["power_state"] = "Running",
                ["is_control_domain"] = true,
                ["resident_on"] = host.Ref,
                ["domid"] = 0L,
                ["memory_static_max"] = 4096 * MiB,
                ["memory_dynamic_max"] = 4096 * MiB,
            });
            db.Set(host, "control_domain", dom0.Ref);
        }

        foreach (var vm in Vms.Concat(Generate?.Specs() ?? []))
        {
            BuildVm(pool, vm, master, srRows, networks);
        }

        // Once at the end: refreshing per disk would stat every file of the SR for each new disk.
        srRows.ForEach(sr => Vdis.RecountUsage(pool, sr));
    }

    private static string NextFreeDevice(HashSet<string> taken)
        => Enumerable.Range(0, 16).Select(n => n.ToString()).First(n => !taken.Contains(n));

    private static void BuildVm(SimPool pool, FixtureVm spec, XapiObject host, List<XapiObject> srs, List<XapiObject> networks)
    {
        var db = pool.Db;
        var running = spec.Power is "Running" or "Paused";
        var vm = db.Create(Schemas.Vm, new Dictionary<string, object?>
        {
            ["name_label"] = spec.Name,
            ["power_state"] = spec.Power,
            ["tags"] = (spec.Tags ?? []).Select(t => (object?)t).ToList(),
            ["other_config"] = (spec.OtherConfig ?? []).ToDictionary(p => p.Key, p => (object?)p.Value),
            ["memory_static_min"] = spec.Memory,
            ["memory_static_max"] = spec.Memory,
            ["memory_dynamic_min"] = spec.Memory,
            ["memory_dynamic_max"] = spec.Memory,
            ["memory_target"] = spec.Memory,
            ["VCPUs_max"] = (long)spec.Vcpus,
            ["VCPUs_at_startup"] = (long)spec.Vcpus,
            ["resident_on"] = running ? host.Ref : XapiValue.NullRef,
            ["domid"] = running ? 1L : -1L,
        });
        if (running)
        {
            db.Set(vm, "guest_metrics", VmPower.CreateGuestMetrics(db).Ref);
        }

        var devices = "abcdefghijklmnop";
        var disks = spec.Disks ?? [];
        // Given userdevices are kept; the others take the lowest free number, never the CD drive's 3.
        var taken = disks.Where(d => d.Userdevice is not null).Select(d => d.Userdevice!).Append("3").ToHashSet();
        for (var i = 0; i < disks.Count; i++)
        {
            var d = disks[i];
            var sr = d.Sr is null ? srs[0] : srs.FirstOrDefault(s => s.Str("name_label") == d.Sr)
                ?? throw new InvalidDataException($"VM {spec.Name}: no SR named {d.Sr}");
            var vdi = Vdis.Create(pool, new Dictionary<string, object?>
            {
                ["SR"] = sr.Ref,
                ["virtual_size"] = d.Size,
                ["name_label"] = d.Name ?? $"{spec.Name} disk {i}",
                ["type"] = "user",
            }, d.Fill, refreshUsage: false);
            var userdevice = d.Userdevice ?? NextFreeDevice(taken);
            taken.Add(userdevice);
            db.Create(Schemas.Vbd, new Dictionary<string, object?>
            {
                ["VM"] = vm.Ref,
                ["VDI"] = vdi.Ref,
                ["userdevice"] = userdevice,
                ["device"] = "xvd" + devices[int.Parse(userdevice) % devices.Length],
                ["bootable"] = i == 0,
                ["currently_attached"] = running,
            });
        }

        if (spec.Cdrom)
        {
            db.Create(Schemas.Vbd, new Dictionary<string, object?>
            {
                ["VM"] = vm.Ref,
                ["userdevice"] = "3",
                ["device"] = "xvdd",
                ["type"] = "CD",
                ["mode"] = "RO",
                ["empty"] = true,
                ["currently_attached"] = running,
            });
        }

        var vifs = spec.Vifs ?? [new FixtureVif(null)];
        for (var i = 0; i < vifs.Count; i++)
        {
            var network = vifs[i].Network is null ? networks[0] : networks.FirstOrDefault(n => n.Str("name_label") == vifs[i].Network)
                ?? throw new InvalidDataException($"VM {spec.Name}: no network named {vifs[i].Network}");
            db.Create(Schemas.Vif, new Dictionary<string, object?>
            {
                ["VM"] = vm.Ref,
                ["network"] = network.Ref,
                ["device"] = i.ToString(),
                ["MAC"] = vifs[i].Mac ?? Vdis.NewMac(),
                ["currently_attached"] = running,
            });
        }
    }
}

public sealed record FixtureHost(string Name);

/// <summary>An SR; <paramref name="Type"/> is its SR.type: "null" makes a null SR (no files: imports are read,
/// parsed, counted and hashed, see <see cref="Storage.NullContent"/>), any other type a file SR of VHD files.</summary>
public sealed record FixtureSr(string Name, long Size, string Type = "ext", bool Shared = false);

public sealed record FixtureNetwork(string Name, int Vlan = -1, string? Bridge = null);

public sealed record FixtureVm(string Name, string Power = "Halted", List<string>? Tags = null, long Memory = 1L << 30, int Vcpus = 1,
    List<FixtureVif>? Vifs = null, List<FixtureDisk>? Disks = null, bool Cdrom = false, Dictionary<string, string>? OtherConfig = null);

public sealed record FixtureVif(string? Network, string? Mac = null);

public sealed record FixtureDisk(long Size, string? Userdevice = null, string? Sr = null, string? Name = null, DiskFill? Fill = null);
