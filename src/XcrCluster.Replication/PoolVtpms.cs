using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>A VM's virtual TPMs (ocaml/xapi/xapi_vtpm.ml): their contents are a secret XAPI answers only through
/// VTPM.get_contents (base64).</summary>
public sealed partial class Pool
{
    /// <summary>The VM's vTPMs with their contents, in the VM's order.</summary>
    public async Task<IReadOnlyList<(string Ref, SourceVtpm Vtpm)>> VtpmsAsync(string vm)
        => await VtpmsAsync(await VmFieldsAsync(vm).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>The vTPMs of a VM whose record (<see cref="VmFieldsAsync"/>) the caller holds already.</summary>
    public async Task<IReadOnlyList<(string Ref, SourceVtpm Vtpm)>> VtpmsAsync(Dictionary<string, object?> vmFields)
    {
        var vtpms = new List<(string, SourceVtpm)>();
        foreach (var vtpm in new FieldReader(vmFields).List("VTPMs"))
        {
            var unique = await Client.CallAsync("VTPM.get_is_unique", vtpm).ConfigureAwait(false) is true;
            var contents = (string?)await Client.CallAsync("VTPM.get_contents", vtpm).ConfigureAwait(false) ?? "";
            vtpms.Add((vtpm, new SourceVtpm(unique, contents)));
        }

        return vtpms;
    }

    /// <summary>VTPM.create(vM, is_unique) on a halted VM that has none (VTPM_MAX_AMOUNT_REACHED otherwise); empty contents.</summary>
    public async Task<string> CreateVtpmAsync(string vm, bool isUnique)
        => (string)(await Client.CallAsync("VTPM.create", vm, isUnique).ConfigureAwait(false))!;

    /// <summary>VTPM.set_contents: base64 contents, as VTPM.get_contents gives them.</summary>
    public Task SetVtpmContentsAsync(string vtpm, string contents) => Client.CallAsync("VTPM.set_contents", vtpm, contents);

    /// <summary>VTPM.destroy (its VM halted): the vTPM and its secret go.</summary>
    public Task DestroyVtpmAsync(string vtpm) => Client.CallAsync("VTPM.destroy", vtpm);
}
