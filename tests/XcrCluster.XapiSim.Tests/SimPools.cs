using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.XapiSim.Tests;

/// <summary>Helpers over an in-process pool through the product's XAPI client.</summary>
internal static class SimPools
{
    public static Task<XapiClient> ConnectAsync(SimHost sim) => XapiClient.ConnectAsync(XapiEndpoint.Parse($"{sim.Url.Scheme}://root:password@{sim.Url.Authority}"));

    public static async Task<VmRecord> VmAsync(XapiClient client, string name) => (await client.GetAllRecordsAsync<VmRecord>()).Single(v => v.NameLabel == name && !v.IsASnapshot);

    /// <summary>The VM's disks in userdevice order.</summary>
    public static async Task<List<VdiRecord>> DisksAsync(XapiClient client, VmRecord vm)
    {
        var disks = new List<(int Device, VdiRecord Vdi)>();
        foreach (var vbdRef in vm.Vbds)
        {
            var vbd = await client.GetRecordAsync<VbdRecord>(vbdRef);
            if (vbd.IsDisk)
            {
                disks.Add((int.Parse(vbd.Userdevice), await client.GetRecordAsync<VdiRecord>(vbd.Vdi)));
            }
        }

        return disks.OrderBy(d => d.Device).Select(d => d.Vdi).ToList();
    }

    public static async Task<VmRecord> SnapshotAsync(XapiClient client, VmRecord vm, string name)
        => await client.GetRecordAsync<VmRecord>((string)(await client.CallTaskAsync("VM.snapshot", [vm.Ref, name]))!);

    /// <summary>Saves an export to a file and confirms its task.</summary>
    public static async Task<string> ExportToFileAsync(XapiClient client, string vdi, VdiFormat format, string path, string? baseVdi = null)
    {
        await using var export = await client.ExportVdiAsync(vdi, format, baseVdi);
        await using (var file = File.Create(path))
        {
            await export.Content.CopyToAsync(file);
        }

        await export.CompleteAsync();
        return path;
    }

    public static async Task<List<int>> GuestWriteAsync(SimHost sim, string vmUuid, int blocks, int seed, int disk = 0)
        => [.. Storage.GuestWorkload.Write(sim.Pool, vmUuid, disk, blocks, seed).Blocks];
}
