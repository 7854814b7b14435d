using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>Pools built from a JSON fixture, and the default pool's shape.</summary>
public sealed class FixtureTests : IDisposable
{
    private const string Json = """
        {
          "pool": "lab",
          "hosts": [{ "name": "alpha" }, { "name": "beta" }],
          "srs": [{ "name": "fast", "size": 21474836480 }, { "name": "slow", "size": 10737418240, "type": "nfs", "shared": true }],
          "networks": [{ "name": "mgmt" }, { "name": "storage", "vlan": 42 }],
          "vms": [
            { "name": "app", "power": "Running", "tags": ["prod", "web"], "memory": 2147483648, "vcpus": 4,
              "vifs": [{ "network": "mgmt", "mac": "aa:bb:cc:00:00:01" }, { "network": "storage" }],
              "disks": [
                { "size": 8388608, "fill": { "kind": "random", "seed": 5, "fraction": 1.0 } },
                { "size": 4194304, "userdevice": "2", "sr": "slow", "name": "logs", "fill": { "kind": "pattern", "pattern": "xcr!" } },
                { "size": 8589934592, "fill": { "kind": "synthetic", "seed": 77 } }
              ],
              "cdrom": true },
            { "name": "appliance", "disks": [] },
            { "name": "blank", "disks": [{ "size": 2097152 }] }
          ]
        }
        """;

    private readonly string dir = Directory.CreateTempSubdirectory("xcr-fixture-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task A_json_fixture_builds_every_kind_of_object_and_fill()
    {
        var path = Path.Combine(dir, "fixture.json");
        await File.WriteAllTextAsync(path, Json);
        await using var sim = await SimHost.StartAsync(o => o with { Fixture = null, FixturePath = path });
        await using var client = await SimPools.ConnectAsync(sim);
        Assert.Equal("lab", Assert.Single(await client.GetAllRecordsAsync<PoolRecord>()).NameLabel);
        Assert.Equal(["alpha", "beta"], (await client.GetAllRecordsAsync<HostRecord>()).Select(h => h.NameLabel).Order());
        var srs = await client.GetAllRecordsAsync<SrRecord>();
        Assert.Equal(10737418240, srs.Single(s => s.NameLabel == "slow").PhysicalSize);
        var networks = await client.GetAllRecordsAsync<NetworkRecord>();
        Assert.Equal(["mgmt", "storage"], networks.Select(n => n.NameLabel).Order());
        using (var rpc = sim.Json())
        {
            await rpc.LoginAsync();
            var pifs = await rpc.AllRecordsAsync("PIF");
            Assert.Contains(pifs.Values, p => Convert.ToInt64(p["VLAN"]) == 42 && (string)p["network"]! == networks.Single(n => n.NameLabel == "storage").Ref);
        }

        var app = await SimPools.VmAsync(client, "app");
        Assert.Equal("Running", app.PowerState);
        Assert.Equal(["prod", "web"], app.Tags.Order());
        Assert.Equal(2147483648, app.MemoryStaticMax);
        Assert.Equal(4, app.VcpusMax);
        var vifs = new List<VifRecord>();
        foreach (var vif in app.Vifs)
        {
            vifs.Add(await client.GetRecordAsync<VifRecord>(vif));
        }

        Assert.Contains(vifs, v => v.Mac == "aa:bb:cc:00:00:01" && v.Network == networks.Single(n => n.NameLabel == "mgmt").Ref);
        Assert.Contains(vifs, v => v.Network == networks.Single(n => n.NameLabel == "storage").Ref);
        var vbds = new List<VbdRecord>();
        foreach (var vbd in app.Vbds)
        {
            vbds.Add(await client.GetRecordAsync<VbdRecord>(vbd));
        }

        Assert.Single(vbds, b => b.Type == "CD" && b.Empty);
        Assert.Equal(["0", "1", "2"], vbds.Where(b => b.IsDisk).Select(b => b.Userdevice).Order());
        var disks = await SimPools.DisksAsync(client, app);
        var logs = disks.Single(d => d.NameLabel == "logs");
        Assert.Equal(srs.Single(s => s.NameLabel == "slow").Ref, logs.Sr);

        // Pattern and random fills are on disk; the synthetic 8 GiB disk takes no space and reads the same twice.
        var pattern = await ReadAsync(client, logs.Ref, 8);
        Assert.Equal("xcr!xcr!", System.Text.Encoding.ASCII.GetString(pattern));
        var synthetic = disks.Single(d => d.VirtualSize == 8589934592);
        Assert.True(synthetic.PhysicalUtilisation < 4 << 20, $"{synthetic.PhysicalUtilisation} bytes for a synthetic disk");
        var once = await ReadAsync(client, synthetic.Ref, 4 << 20);
        Assert.Equal(once, await ReadAsync(client, synthetic.Ref, 4 << 20));
        var expected = new byte[4 << 20];
        new SyntheticDisk(8589934592, 77).Read(0, expected);
        Assert.Equal(expected, once);

        var appliance = await SimPools.VmAsync(client, "appliance");
        Assert.Empty(await SimPools.DisksAsync(client, appliance));
        var blank = (await SimPools.DisksAsync(client, await SimPools.VmAsync(client, "blank")))[0];
        Assert.All(await ReadAsync(client, blank.Ref, 2 << 20), b => Assert.Equal(0, b));
    }

    private static async Task<byte[]> ReadAsync(XapiClient client, string vdi, int count)
    {
        await using var export = await client.ExportVdiAsync(vdi, VdiFormat.Raw);
        var buffer = new byte[count];
        await export.Content.ReadExactlyAsync(buffer);
        return buffer;
    }

    [Fact]
    public async Task Without_a_fixture_the_pool_has_one_host_two_srs_one_network_and_three_vms()
    {
        await using var sim = await SimHost.StartAsync(o => o with { Fixture = null });
        await using var client = await SimPools.ConnectAsync(sim);
        Assert.Single(await client.GetAllRecordsAsync<HostRecord>());
        Assert.Equal(2, (await client.GetAllRecordsAsync<SrRecord>()).Count);
        Assert.Single(await client.GetAllRecordsAsync<NetworkRecord>());
        var vms = await client.GetAllRecordsAsync<VmRecord>();
        Assert.Single(vms, v => v.IsControlDomain);
        var guests = vms.Where(v => !v.IsControlDomain).ToList();
        Assert.Equal(["db01", "tiny01", "web01"], guests.Select(v => v.NameLabel).Order());
        var sizes = new List<long>();
        foreach (var vm in guests)
        {
            var disks = await SimPools.DisksAsync(client, vm);
            sizes.AddRange(disks.Select(d => d.VirtualSize));
            Assert.Equal(vm.NameLabel == "web01" ? 2 : 1, disks.Count);
            Assert.All(disks, d => Assert.True(d.PhysicalUtilisation > 1 << 20, $"{vm.NameLabel}: no random data"));
        }

        Assert.Equal(256L << 20, sizes.Min());
        Assert.Equal(1L << 30, sizes.Max());
    }
}
