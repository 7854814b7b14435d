using XcrCluster.Xapi;

namespace XcrCluster.Replication;

/// <summary>A pool's disks: VDIs and the VBDs that attach them to VMs.</summary>
public sealed partial class Pool
{
    /// <summary>Attaches a disk to a halted VM; <paramref name="marker"/> (key, value) marks the VBD from the call that creates
    /// it.</summary>
    public async Task<string> AttachAsync(string vm, string vdi, string userdevice, bool bootable, string mode,
        (string Key, string Value)? marker,
        bool unpluggable = true)
        => (string)(await Client.CallAsync("VBD.create", new Dictionary<string, object?>
        {
            ["VM"] = vm, ["VDI"] = vdi, ["userdevice"] = userdevice, ["bootable"] = bootable, ["mode"] = mode, ["type"] = "Disk",
            ["empty"] = false, ["unpluggable"] = unpluggable, ["qos_algorithm_type"] = "",
            ["qos_algorithm_params"] = new Dictionary<string, object?>(),
            ["other_config"] = marker is { } m ? new Dictionary<string, object?> { [m.Key] = m.Value } : new Dictionary<string, object?>(),
        }).ConfigureAwait(false))!;

    /// <summary>VBD.destroy: detaches a disk from a halted VM; the VDI stays.</summary>
    public Task DestroyVbdAsync(string vbd) => Client.CallAsync("VBD.destroy", vbd);

    /// <summary>VDI.create from XAPI's constructor fields (name, SR, virtual_size, type, other_config, …); returns its ref.</summary>
    public async Task<string> CreateVdiAsync(Dictionary<string, object?> record)
        => (string)(await Client.CallAsync("VDI.create", record).ConfigureAwait(false))!;

    /// <summary>VDI.clone: a new VDI sharing the source's data, which copies its name, type, other_config, xenstore_data and
    /// tags (docs/xapi.md §4, <c>ocaml/xapi/xapi_vdi.ml</c> <c>snapshot_and_clone</c>), so a marker on the source is on
    /// the clone from the call that makes it.</summary>
    public async Task<string> CloneVdiAsync(string vdi) => (string)(await Client.CallAsync("VDI.clone", vdi).ConfigureAwait(false))!;

    /// <summary>VDI.resize (as a task) to <paramref name="size"/> bytes.</summary>
    public Task ResizeVdiAsync(string vdi, long size) => Client.CallTaskAsync("VDI.resize", [vdi, size]);

    /// <summary>VDI.set_name_label.</summary>
    public Task SetVdiNameLabelAsync(string vdi, string name) => Client.CallAsync("VDI.set_name_label", vdi, name);

    /// <summary>VDI.destroy with no check at all: only <see cref="RunScope"/> (a run's destroys, after its checks) and
    /// this Pool's operator purge call it — every destroy of a run goes through <see cref="RunScope"/>.</summary>
    internal Task DestroyVdiObjectAsync(string vdi) => Client.CallAsync("VDI.destroy", vdi);

    /// <summary>Cleanup never hides the error that caused it: a disk already gone or still in use is left.</summary>
    public async Task DestroyVdiQuietlyAsync(string vdi)
    {
        try
        {
            if ((await VdiAsync(vdi).ConfigureAwait(false)).Vbds.Count == 0)
            {
                await DestroyVdiObjectAsync(vdi).ConfigureAwait(false);
            }
        }
        catch (XapiException)
        {
        }
    }
}
