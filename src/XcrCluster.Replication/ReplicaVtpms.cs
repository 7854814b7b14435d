namespace XcrCluster.Replication;

/// <summary>A source snapshot's vTPM: unique or not, and its contents (base64; empty for a unique one, whose contents
/// XAPI never copies to a snapshot: <c>copy</c> in ocaml/xapi/xapi_vtpm.ml).</summary>
public sealed record SourceVtpm(bool IsUnique, string Contents);

/// <summary>The replica's vTPM follows the source snapshot's on every run (spec §2.10 step 6): Xen Orchestra destroys
/// the replica's and creates one from the contents (XAPI allows one per VM: VTPM_MAX_AMOUNT_REACHED). Here a vTPM
/// already equal is kept, so a run without a change touches none. A commit without the list (a seed manifest, or a
/// sender from before vTPMs travelled) leaves the replica's as they are.</summary>
internal static class ReplicaVtpms
{
    public static async Task SyncAsync(Pool pool, string vm, IReadOnlyList<SourceVtpm>? vtpms)
    {
        if (vtpms is null)
        {
            return;
        }

        var current = await pool.VtpmsAsync(vm).ConfigureAwait(false);
        if (current.Select(c => c.Vtpm).SequenceEqual(vtpms))
        {
            return;
        }

        foreach (var (vtpm, _) in current)
        {
            await pool.DestroyVtpmAsync(vtpm).ConfigureAwait(false);
        }

        foreach (var vtpm in vtpms)
        {
            var created = await pool.CreateVtpmAsync(vm, vtpm.IsUnique).ConfigureAwait(false);
            if (vtpm.Contents.Length > 0)
            {
                await pool.SetVtpmContentsAsync(created, vtpm.Contents).ConfigureAwait(false);
            }
        }
    }
}
