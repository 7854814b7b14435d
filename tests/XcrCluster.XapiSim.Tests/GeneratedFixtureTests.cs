using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Tests;

/// <summary>A fixture's "generate": thousands of VMs with synthetic disks, not listed one by one.</summary>
public sealed class GeneratedFixtureTests : IDisposable
{
    private const long DiskSize = 16 << 20;

    private readonly string dir = Directory.CreateTempSubdirectory("xcr-generate-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task A_pool_of_1000_vms_with_2_disks_each_starts_and_its_disks_read_their_seeded_content()
    {
        var path = Path.Combine(dir, "fixture.json");
        await File.WriteAllTextAsync(path, $$"""
            { "srs": [{ "name": "main", "size": 1099511627776 }],
              "vms": [{ "name": "listed", "disks": [] }],
              "generate": { "vms": 1000, "disks": 2, "diskSize": {{DiskSize}} } }
            """);
        await using var sim = await SimHost.StartAsync(o => o with { Fixture = null, FixturePath = path });
        await using var client = await SimPools.ConnectAsync(sim);

        var vms = await client.GetAllRecordsAsync<VmRecord>();
        var generated = vms.Where(v => v.NameLabel.StartsWith("gen-", StringComparison.Ordinal)).ToList();
        Assert.Equal(1000, generated.Count);
        Assert.Equal("gen-00001", generated.Min(v => v.NameLabel));
        Assert.Equal("gen-01000", generated.Max(v => v.NameLabel));
        Assert.Single(vms, v => v.NameLabel == "listed");
        Assert.All(generated, v => Assert.Equal(("Halted", 2, 1), (v.PowerState, v.Vbds.Count, v.Vifs.Count)));

        var vdis = await client.GetAllRecordsAsync<VdiRecord>();
        var disks = vdis.Where(v => v.NameLabel.StartsWith("gen-", StringComparison.Ordinal)).ToList();
        Assert.Equal(2000, disks.Count);
        Assert.All(disks, d => Assert.Equal(DiskSize, d.VirtualSize));
        Assert.Single(await client.GetAllRecordsAsync<SrRecord>(), s => s.NameLabel == "main" && s.VirtualAllocation >= 2000 * DiskSize);

        // Disk 1 of the 500th VM holds the synthetic content of its seed, the same at every read.
        var vm = generated.Single(v => v.NameLabel == FixtureGenerate.VmName(499));
        var disk = (await SimPools.DisksAsync(client, vm))[1];
        var expected = new byte[DiskSize];
        new SyntheticDisk(DiskSize, (ulong)FixtureGenerate.DiskSeed(1, 499, 1, 2)).Read(0, expected);
        Assert.Equal(expected, await ReadAsync(client, disk.Ref));
        Assert.Equal(expected, await ReadAsync(client, disk.Ref));
    }

    private static async Task<byte[]> ReadAsync(XapiClient client, string vdi)
    {
        await using var export = await client.ExportVdiAsync(vdi, VdiFormat.Raw);
        var buffer = new byte[DiskSize];
        await export.Content.ReadExactlyAsync(buffer);
        await export.CompleteAsync();
        return buffer;
    }
}
