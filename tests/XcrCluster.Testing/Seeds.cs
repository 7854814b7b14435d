using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Testing;

/// <summary>Seeds built the XAPI way the seed document describes, minus the XVA file: VDI.create + PUT
/// /import_raw_vdi of the source snapshot's disks + VM.create + VBD.create on the target pool; and the real
/// xo-cr-seed run on top.</summary>
public static class Seeds
{
    public static async Task<string> BuildAsync(XapiClient source, XapiClient target, VmRecord snapshot, SrRecord sr)
    {
        var seed = (string)(await target.CallAsync("VM.create", new Dictionary<string, object?>
        {
            ["name_label"] = snapshot.NameLabel, ["memory_static_max"] = snapshot.MemoryStaticMax, ["memory_dynamic_max"] = snapshot.MemoryStaticMax,
            ["VCPUs_max"] = 1L, ["VCPUs_at_startup"] = 1L, ["is_a_template"] = false,
        }))!;
        foreach (var (userdevice, disk) in await DisksAsync(source, snapshot))
        {
            var vdi = (string)(await target.CallAsync("VDI.create", new Dictionary<string, object?>
            {
                ["SR"] = sr.Ref, ["virtual_size"] = disk.VirtualSize, ["name_label"] = disk.NameLabel, ["type"] = "user",
                ["sharable"] = false, ["read_only"] = false, ["other_config"] = new Dictionary<string, object?>(),
            }))!;
            var length = await ExportLengthAsync(source, disk.Ref);
            await using (var export = await source.ExportVdiAsync(disk.Ref, VdiFormat.Vhd))
            {
                await target.ImportVdiAsync(vdi, export.Content, length, VdiFormat.Vhd);
                await export.CompleteAsync();
            }

            await target.CallAsync("VBD.create", new Dictionary<string, object?>
            {
                ["VM"] = seed, ["VDI"] = vdi, ["userdevice"] = userdevice, ["type"] = "Disk", ["mode"] = "RW", ["bootable"] = userdevice == "0",
                ["empty"] = false, ["other_config"] = new Dictionary<string, object?>(),
            });
        }

        return (await target.GetRecordAsync<VmRecord>(seed)).Uuid;
    }

    /// <summary>Runs the real xo-cr-seed with the seed document's argument order (credentials percent-encoded in the URLs);
    /// fails the test on any error.</summary>
    public static async Task RunXoCrSeedAsync(Uri sourceUrl, string snapshotUuid, Uri targetUrl, string seedUuid, string jobId,
        string scheduleId, string user = "root", string password = "password")
    {
        var login = $"{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password)}";
        var (code, stdout, stderr) = await NodeTool.RunAsync("node_modules/.bin/xo-cr-seed", TimeSpan.FromSeconds(90),
            $"http://{login}@{sourceUrl.Authority}", snapshotUuid, $"http://{login}@{targetUrl.Authority}", seedUuid, jobId, scheduleId);
        if (code != 0 || stderr.Contains("Fatal error", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"xo-cr-seed exited {code}: {stdout}{stderr}");
        }
    }

    /// <summary>A VM's disks by userdevice.</summary>
    public static async Task<Dictionary<string, VdiRecord>> DisksAsync(XapiClient client, VmRecord vm)
    {
        var disks = new Dictionary<string, VdiRecord>();
        foreach (var vbdRef in vm.Vbds)
        {
            var vbd = await client.GetRecordAsync<VbdRecord>(vbdRef);
            if (vbd.IsDisk)
            {
                disks[vbd.Userdevice] = await client.GetRecordAsync<VdiRecord>(vbd.Vdi);
            }
        }

        return disks;
    }

    /// <summary>The exact length of a VHD export, as XO computes it before an import (it needs Content-Length).</summary>
    private static async Task<long> ExportLengthAsync(XapiClient client, string vdi)
    {
        await using var export = await client.ExportVdiAsync(vdi, VdiFormat.Vhd);
        await export.Content.CopyToAsync(Stream.Null);
        await export.CompleteAsync();
        return export.Content.BytesTransferred;
    }
}
